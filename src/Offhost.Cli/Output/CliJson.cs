using System.Text.Json.Serialization;

namespace Offhost.Cli.Output;

// The --json outputs of the commands, one record per object. They are serialized by the source-generated CliJson
// context rather than by reflection over anonymous objects so that the NativeAOT build (no runtime code generation,
// trimmed metadata) writes them. Property order is the field order of the output (docs/cli.md): keep it.

/// <summary>A file a backup could not map.</summary>
public sealed record UnmappableJson(
    [property: JsonPropertyName("path")] string Path,
    [property: JsonPropertyName("id")] ulong Id,
    [property: JsonPropertyName("error")] string? Error);

/// <summary>One volume of a backup; sizes in bytes.</summary>
public sealed record BackupVolumeJson(
    [property: JsonPropertyName("filesystem")] string FileSystem,
    [property: JsonPropertyName("size_bytes")] long SizeBytes,
    [property: JsonPropertyName("partition_offset_bytes")] long PartitionOffsetBytes);

/// <summary><c>offhost backup --json</c>.</summary>
public sealed record BackupJson(
    [property: JsonPropertyName("backup_id")] string BackupId,
    [property: JsonPropertyName("status")] string Status,
    [property: JsonPropertyName("frozen_at")] DateTimeOffset FrozenAt,
    [property: JsonPropertyName("snapshot")] string Snapshot,
    [property: JsonPropertyName("tape")] string Tape,
    [property: JsonPropertyName("archive_file")] long ArchiveFile,
    [property: JsonPropertyName("index_file")] long IndexFile,
    [property: JsonPropertyName("files")] long Files,
    [property: JsonPropertyName("data_bytes")] long DataBytes,
    [property: JsonPropertyName("archive_bytes")] long ArchiveBytes,
    [property: JsonPropertyName("bytes_from_device")] long BytesFromDevice,
    [property: JsonPropertyName("inline_bytes")] long InlineBytes,
    [property: JsonPropertyName("parameter_lists")] int ParameterLists,
    [property: JsonPropertyName("volumes")] IEnumerable<BackupVolumeJson> Volumes,
    [property: JsonPropertyName("unmappable")] IEnumerable<UnmappableJson> Unmappable,
    [property: JsonPropertyName("unmatched")] IReadOnlyList<string> Unmatched);

/// <summary><c>offhost backup-image --json</c>.</summary>
public sealed record BackupImageJson(
    [property: JsonPropertyName("backup_id")] Guid BackupId,
    [property: JsonPropertyName("tape")] string Tape,
    [property: JsonPropertyName("archive_file")] long ArchiveFile,
    [property: JsonPropertyName("index_file")] long IndexFile,
    [property: JsonPropertyName("archive_bytes")] long ArchiveBytes,
    [property: JsonPropertyName("files")] long Files,
    [property: JsonPropertyName("bytes_from_device")] long BytesFromDevice,
    [property: JsonPropertyName("inline_bytes")] long InlineBytes,
    [property: JsonPropertyName("parameter_lists")] int ParameterLists,
    [property: JsonPropertyName("unmappable")] IEnumerable<UnmappableJson> Unmappable);

/// <summary>One source volume of a catalogued backup.</summary>
public sealed record BackupSourceJson(
    [property: JsonPropertyName("path")] string Path,
    [property: JsonPropertyName("filesystem")] string FileSystem,
    [property: JsonPropertyName("file_set")] IReadOnlyList<string>? FileSet);

/// <summary>One tape file of a catalogued backup; bytes of data.</summary>
public sealed record BackupTapeFileJson(
    [property: JsonPropertyName("media")] string Media,
    [property: JsonPropertyName("file")] int File,
    [property: JsonPropertyName("kind")] string Kind,
    [property: JsonPropertyName("bytes")] long Bytes);

/// <summary>One element of <c>offhost backups --json</c>.</summary>
public sealed record BackupListJson(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("status")] string Status,
    [property: JsonPropertyName("started_at")] DateTimeOffset StartedAt,
    [property: JsonPropertyName("finished_at")] DateTimeOffset? FinishedAt,
    [property: JsonPropertyName("frozen_at")] DateTimeOffset? FrozenAt,
    [property: JsonPropertyName("snapshot")] string? Snapshot,
    [property: JsonPropertyName("sources")] IEnumerable<BackupSourceJson> Sources,
    [property: JsonPropertyName("files")] long Files,
    [property: JsonPropertyName("data_bytes")] long DataBytes,
    [property: JsonPropertyName("tape_files")] IEnumerable<BackupTapeFileJson> TapeFiles,
    [property: JsonPropertyName("remapped")] bool Remapped,
    [property: JsonPropertyName("remap_details")] string? RemapDetails,
    [property: JsonPropertyName("verified_at")] DateTimeOffset? VerifiedAt,
    [property: JsonPropertyName("verify_ok")] bool? VerifyOk,
    [property: JsonPropertyName("error")] string? Error);

/// <summary>A character or block device number.</summary>
public sealed record DeviceNumberJson(
    [property: JsonPropertyName("major")] uint Major,
    [property: JsonPropertyName("minor")] uint Minor);

/// <summary>One line of <c>offhost files --json</c>.</summary>
public sealed record FileJson(
    [property: JsonPropertyName("path")] string Path,
    [property: JsonPropertyName("kind")] string Kind,
    [property: JsonPropertyName("size_bytes")] long SizeBytes,
    [property: JsonPropertyName("mode")] string? Mode,
    [property: JsonPropertyName("uid")] uint? Uid,
    [property: JsonPropertyName("gid")] uint? Gid,
    [property: JsonPropertyName("modified")] string? Modified,
    [property: JsonPropertyName("links")] IEnumerable<string> Links,
    [property: JsonPropertyName("target")] string? Target,
    [property: JsonPropertyName("rdev")] DeviceNumberJson? Rdev,
    [property: JsonPropertyName("attributes")] IReadOnlyList<string> Attributes,
    [property: JsonPropertyName("error")] string? Error);

/// <summary><c>offhost restore --json</c> (files).</summary>
public sealed record RestoreFilesJson(
    [property: JsonPropertyName("files")] long Files,
    [property: JsonPropertyName("directories")] long Directories,
    [property: JsonPropertyName("symlinks")] long Symlinks,
    [property: JsonPropertyName("hard_links")] long HardLinks,
    [property: JsonPropertyName("special_files")] long SpecialFiles,
    [property: JsonPropertyName("streams")] long Streams,
    [property: JsonPropertyName("data_bytes")] long DataBytes,
    [property: JsonPropertyName("complete")] bool Complete,
    [property: JsonPropertyName("refused")] IEnumerable<string> Refused,
    [property: JsonPropertyName("damaged")] IEnumerable<string> Damaged,
    [property: JsonPropertyName("not_restored")] IEnumerable<string> NotRestored,
    [property: JsonPropertyName("unmatched")] IReadOnlyList<string> Unmatched);

/// <summary><c>offhost restore-image --json</c> and <c>restore --volume --json</c>; bytes written.</summary>
public sealed record RestoreImageJson(
    [property: JsonPropertyName("target")] string Target,
    [property: JsonPropertyName("filesystem")] string FileSystem,
    [property: JsonPropertyName("bytes_written")] long BytesWritten,
    [property: JsonPropertyName("pieces")] int Pieces,
    [property: JsonPropertyName("parameter_lists")] int ParameterLists);

/// <summary>One tape file of <c>offhost tape ls --json</c> on an iSCSI tape.</summary>
public sealed record TapeFileJson(
    [property: JsonPropertyName("file")] long File,
    [property: JsonPropertyName("records")] long Records,
    [property: JsonPropertyName("bytes")] long Bytes,
    [property: JsonPropertyName("closed")] bool Closed,
    [property: JsonPropertyName("content")] string Content);

/// <summary><c>offhost tape ls --json</c> on an iSCSI tape; capacity in bytes.</summary>
public sealed record TapeListJson(
    [property: JsonPropertyName("path")] string Path,
    [property: JsonPropertyName("label")] string? Label,
    [property: JsonPropertyName("volume_uuid")] Guid? VolumeUuid,
    [property: JsonPropertyName("capacity")] long? Capacity,
    [property: JsonPropertyName("files")] IEnumerable<TapeFileJson> Files);

/// <summary><c>offhost catalog rebuild --json</c>.</summary>
public sealed record CatalogRebuildJson(
    [property: JsonPropertyName("media")] string Media,
    [property: JsonPropertyName("backups_added")] IReadOnlyList<string> BackupsAdded,
    [property: JsonPropertyName("backups_already_present")] int BackupsAlreadyPresent,
    [property: JsonPropertyName("files")] long Files,
    [property: JsonPropertyName("problems")] IReadOnlyList<string> Problems);

/// <summary><c>offhost verify --json</c> and <c>verify-image --json</c>.</summary>
public sealed record VerifyJson(
    [property: JsonPropertyName("backup_id")] string BackupId,
    [property: JsonPropertyName("ok")] bool Ok,
    [property: JsonPropertyName("members")] long Members,
    [property: JsonPropertyName("streams_checked")] long StreamsChecked,
    [property: JsonPropertyName("data_bytes_checked")] long DataBytesChecked,
    [property: JsonPropertyName("archive_bytes")] long ArchiveBytes,
    [property: JsonPropertyName("end_of_archive")] bool EndOfArchive,
    [property: JsonPropertyName("problems")] IEnumerable<string> Problems);

/// <summary>Source-generated serializers for the CLI's JSON outputs (default options: compact, the default encoder,
/// nulls written), so the output is the same as reflection-based serialization produced. Thread-safe.</summary>
[JsonSerializable(typeof(BackupJson))]
[JsonSerializable(typeof(BackupImageJson))]
[JsonSerializable(typeof(IEnumerable<BackupListJson>))]
[JsonSerializable(typeof(FileJson))]
[JsonSerializable(typeof(RestoreFilesJson))]
[JsonSerializable(typeof(RestoreImageJson))]
[JsonSerializable(typeof(TapeListJson))]
[JsonSerializable(typeof(CatalogRebuildJson))]
[JsonSerializable(typeof(VerifyJson))]
public sealed partial class CliJson : JsonSerializerContext;
