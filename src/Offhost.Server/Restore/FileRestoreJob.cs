using System.IO.Hashing;
using Microsoft.Win32.SafeHandles;
using Offhost.Catalog;
using Offhost.Core.Errors;
using Offhost.Core.Mapping;
using Offhost.Formats.Tape.Index;
using Offhost.Formats.Tape.Pax;
using Offhost.Io.FileSystems;
using Offhost.Server.Verify;

namespace Offhost.Server.Restore;

/// <summary>
/// Restores files of a backup image to a directory in ONE sequential pass over the archive tape file: the index says
/// which members are wanted and what their checksums are; each member's headers are decoded as they pass, the data of
/// wanted members is written as it is read (sparse members with holes, by seeking), and everything else is read past
/// without being kept. Names are confined to the target directory (<see cref="FileRestorePaths"/>); every stream is
/// checked against its xxHash64 while it is written, and a mismatch is reported and the file set aside under
/// <see cref="DamagedSuffix"/>. Metadata: mode, owner (as root), atime/mtime with nanoseconds, xattrs, NTFS alternate
/// data streams as <c>user.*</c> xattrs, NTFS attributes only onto NTFS; directory times are set after their contents.
/// FIFOs and device nodes are recreated with mknod (devices need root); sockets are reported, not recreated.
/// </summary>
public static class FileRestoreJob
{
    /// <summary>Suffix of a restored file whose data failed its checksum.</summary>
    public const string DamagedSuffix = ".offhost-damaged";

    /// <summary>Largest alternate data stream restorable as an extended attribute (the kernel's XATTR_SIZE_MAX).</summary>
    public const int MaxXattrValueBytes = 65536;

    public static async Task<FileRestoreResult> RunAsync(FileRestoreRequest request, Action<long>? progressBytes, CancellationToken cancellationToken)
    {
        var index = request.Index ?? await VolumeRestoreJob.ReadIndexAsync(request.Tape, request.ArchiveFileNumber, cancellationToken);
        var restorer = new Restorer(request, index);
        ArchiveWalk walk;
        try
        {
            walk = await ArchiveWalker.WalkAsync(request.Tape, request.ArchiveFileNumber, restorer, progressBytes, cancellationToken);
        }
        finally
        {
            restorer.CloseOpenFile();
        }
        if (!walk.EndOfArchive)
            restorer.NotRestored.Add(new FileRestoreProblem("", $"the archive ends at byte {walk.ArchiveBytes} without its end-of-archive marker; members after that are missing"));
        return restorer.Finish();
    }

    sealed class Restorer : IArchiveVisitor
    {
        readonly FileRestoreRequest request;
        readonly FileRestorePaths paths;
        readonly List<GlobPattern> patterns;
        readonly bool[] patternUsed;
        readonly Dictionary<long, TapeIndexEntry> byOffset = [];
        readonly Dictionary<string, TapeIndexEntry> byPath = new(StringComparer.Ordinal);
        /// <summary>Member path → path (relative) the member's data goes to, when not its own (hard-link target not selected).</summary>
        readonly Dictionary<string, string> redirect = new(StringComparer.Ordinal);
        /// <summary>Member path → full path it was restored to (for hard links and streams).</summary>
        readonly Dictionary<string, string> restored = new(StringComparer.Ordinal);
        readonly List<(string FullPath, PaxMemberHeader Member)> directories = [];
        readonly bool targetIsNtfs;
        readonly bool root = Environment.IsPrivilegedProcess;
        long ntfsSkipped, ownersSkipped;

        public List<FileRestoreProblem> Refused { get; } = [];
        public List<FileRestoreProblem> Damaged { get; } = [];
        public List<FileRestoreProblem> NotRestored { get; } = [];
        long files, dirs, symlinks, hardLinks, streams, dataBytes, specials;

        // The member being written.
        SafeFileHandle? handle;
        string? writingPath;
        string? writingMember;
        TapeIndexStream? expected;
        LogicalStreamHash? hash;
        byte[]? streamBuffer;          // alternate data stream member, collected for the xattr
        string? streamOwnerPath;

        public Restorer(FileRestoreRequest request, TapeIndex index)
        {
            this.request = request;
            paths = new FileRestorePaths(request.TargetDirectory);
            patterns = request.Patterns.Select(p => new GlobPattern(p.Trim('/').Length == 0 ? "**" : p.TrimStart('/').TrimEnd('/'))).ToList();
            patternUsed = new bool[patterns.Count];
            foreach (var e in index.Entries)
            {
                if (e.MemberOffsetBytes >= 0) byOffset.TryAdd(e.MemberOffsetBytes, e);
                byPath.TryAdd(e.Path.TrimEnd('/'), e);
            }
            targetIsNtfs = IsNtfs(paths.Root);
            PlanHardLinks(index);
        }

        /// <summary>A selected hard link whose data member is not selected gets the data itself; later links to the same data link to it.</summary>
        void PlanHardLinks(TapeIndex index)
        {
            foreach (var e in index.Entries)
            {
                if (e.Kind != PaxEntryKind.HardLink || e.LinkTarget is null) continue;
                string link = e.Path.TrimEnd('/'), target = e.LinkTarget.TrimEnd('/');
                if (!Selected(link) || Selected(target)) continue;
                redirect.TryAdd(target, link);
            }
        }

        /// <summary>ntfs-3g answers for its NTFS attribute xattr on every file, the root included; other file systems do not have it.</summary>
        static bool IsNtfs(string path) => PosixFile.HasXattr(path, PaxEntryEncoder.NtfsAttributesXattr);

        static bool IsOffhostMember(string path)
        {
            var parts = path.Split('/', 3);
            return parts[0] == ".offhost" || (parts.Length > 1 && parts[0].StartsWith("vol", StringComparison.Ordinal) && parts[1] == ".offhost");
        }

        bool Selected(string path)
        {
            if (!request.IncludeOffhostMembers && IsOffhostMember(path)) return false;
            if (patterns.Count == 0) return true;
            bool any = false;
            for (string? p = path; p is not null; p = Parent(p))
                for (int i = 0; i < patterns.Count; i++)
                    if (patterns[i].IsMatch(p)) { patternUsed[i] = true; any = true; }
            return any;
        }

        static string? Parent(string p)
        {
            int slash = p.LastIndexOf('/');
            return slash <= 0 ? null : p[..slash];
        }

        TapeIndexEntry? EntryOf(PaxMemberHeader m) =>
            byOffset.TryGetValue(m.ArchiveOffsetBytes, out var e) ? e : byPath.GetValueOrDefault(m.Path);

        /// <summary>The stream whose bytes are this member's data.</summary>
        static TapeIndexStream? DataStream(TapeIndexEntry e, PaxMemberHeader m) =>
            e.Streams.FirstOrDefault(s => s.Storage == TapeStreamStorage.MemberData && s.MemberOffsetBytes == m.ArchiveOffsetBytes)
            ?? (e.MemberOffsetBytes < 0 ? e.Streams.FirstOrDefault(s => s.Storage == TapeStreamStorage.MemberData) : null);

        public bool OnMember(PaxMemberHeader m)
        {
            var entry = EntryOf(m);
            var data = entry is null ? null : DataStream(entry, m);

            // An alternate data stream member "file:stream" belongs to the file restored just before it.
            if (m.Kind == PaxEntryKind.File && data is { Name.Length: > 0 } && m.Path.EndsWith(":" + data.Name, StringComparison.Ordinal))
                return BeginStreamMember(m, m.Path[..^(data.Name.Length + 1)], data);

            string? dest = Selected(m.Path) ? m.Path : redirect.GetValueOrDefault(m.Path);
            if (dest is null) return false;
            if (m.Kind == PaxEntryKind.HardLink && redirect.TryGetValue(m.LinkTarget!.TrimEnd('/'), out var first) && first == m.Path)
                return false;   // this link already received the data

            string? full = paths.Resolve(dest, out var refusal);
            if (full is null) { Refused.Add(new FileRestoreProblem(m.Path, refusal!)); return false; }
            try
            {
                switch (m.Kind)
                {
                    case PaxEntryKind.Directory:
                        if (FileRestorePaths.IsSymlink(full) || File.Exists(full)) File.Delete(full);
                        Directory.CreateDirectory(full);
                        restored[m.Path] = full;
                        directories.Add((full, m));
                        dirs++;
                        return false;
                    case PaxEntryKind.Symlink:
                        if (!FileRestorePaths.ClearForNonDirectory(full)) { Refused.Add(new FileRestoreProblem(m.Path, "a directory is in the way")); return false; }
                        File.CreateSymbolicLink(full, m.LinkTarget!);
                        restored[m.Path] = full;
                        symlinks++;
                        ApplyMetadata(m, full, isSymlink: true);
                        return false;
                    case PaxEntryKind.HardLink:
                        string target = m.LinkTarget!.TrimEnd('/');
                        string? existing = restored.GetValueOrDefault(target) ?? (redirect.TryGetValue(target, out var r) ? restored.GetValueOrDefault(r) : null);
                        if (existing is null) { NotRestored.Add(new FileRestoreProblem(m.Path, $"hard link to '{target}', which was not restored")); return false; }
                        if (!FileRestorePaths.ClearForNonDirectory(full)) { Refused.Add(new FileRestoreProblem(m.Path, "a directory is in the way")); return false; }
                        int err = PosixFile.CreateHardLink(existing, full);
                        if (err != 0) { NotRestored.Add(new FileRestoreProblem(m.Path, $"link to '{target}': {PosixFile.Describe(err)}")); return false; }
                        restored[m.Path] = full;
                        hardLinks++;
                        return false;
                    case PaxEntryKind.Fifo or PaxEntryKind.CharDevice or PaxEntryKind.BlockDevice or PaxEntryKind.Socket:
                        RestoreSpecial(m, full);
                        return false;
                    default:
                        return BeginFile(m, entry, data, full);
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                NotRestored.Add(new FileRestoreProblem(m.Path, e.Message));
                CloseOpenFile();
                return false;
            }
        }

        /// <summary>A FIFO or device node is made with mknod, then gets owner, mode and times like a file. A socket is not
        /// made: without the program that listens on it, it is an empty name. Anything that fails is reported, and the
        /// restore goes on.</summary>
        void RestoreSpecial(PaxMemberHeader m, string full)
        {
            var kind = PaxEntryKinds.Special(m.Kind)!.Value;
            string what = m.Device is { } device ? $"{SpecialFiles.Name(kind)} {device}" : SpecialFiles.Name(kind);
            if (kind == SpecialFileKind.Socket)
            {
                NotRestored.Add(new FileRestoreProblem(m.Path, "socket not recreated: a socket file means nothing without the program that listens on it"));
                return;
            }
            if (!FileRestorePaths.ClearForNonDirectory(full)) { Refused.Add(new FileRestoreProblem(m.Path, "a directory is in the way")); return; }
            int err = PosixFile.CreateSpecial(full, kind, m.Mode, m.Device);
            if (err != 0)
            {
                NotRestored.Add(new FileRestoreProblem(m.Path, $"{what} not recreated: mknod: {PosixFile.Describe(err)}"));
                return;
            }
            restored[m.Path] = full;
            specials++;
            ApplyMetadata(m, full, isSymlink: false);
        }

        bool BeginFile(PaxMemberHeader m, TapeIndexEntry? entry, TapeIndexStream? data, string full)
        {
            if (m.TypeFlag is not ((byte)'0' or 0 or (byte)'7'))
            {
                NotRestored.Add(new FileRestoreProblem(m.Path, $"member type '{(char)m.TypeFlag}' is not restored"));
                return false;
            }
            if (!FileRestorePaths.ClearForNonDirectory(full)) { Refused.Add(new FileRestoreProblem(m.Path, "a directory is in the way")); return false; }
            // CreateNew is O_CREAT|O_EXCL: it never follows a symlink at the final component.
            handle = File.OpenHandle(full, FileMode.CreateNew, FileAccess.Write, FileShare.None);
            RandomAccess.SetLength(handle, m.SizeBytes);   // a sparse member's holes stay holes
            writingPath = full;
            writingMember = m.Path;
            expected = data;
            hash = new LogicalStreamHash(m.SizeBytes);
            if (entry is null) NotRestored.Add(new FileRestoreProblem(m.Path, "not in the backup's index; its data cannot be checked"));
            else if (data is null && m.SizeBytes > 0) NotRestored.Add(new FileRestoreProblem(m.Path, "the index has no checksum for this member's data"));
            return true;
        }

        bool BeginStreamMember(PaxMemberHeader m, string ownerPath, TapeIndexStream data)
        {
            if (!restored.TryGetValue(ownerPath, out var owner))
            {
                string? redirected = redirect.GetValueOrDefault(ownerPath);
                if (redirected is null || !restored.TryGetValue(redirected, out owner)) return false;   // owner not selected
            }
            if (m.SizeBytes > MaxXattrValueBytes)
            {
                NotRestored.Add(new FileRestoreProblem(ownerPath, $"stream '{data.Name}' of {m.SizeBytes} bytes is larger than an extended attribute may be ({MaxXattrValueBytes}); not restored"));
                return false;
            }
            streamBuffer = new byte[m.SizeBytes];
            streamOwnerPath = owner;
            writingMember = m.Path;
            expected = data;
            hash = new LogicalStreamHash(m.SizeBytes);
            return true;
        }

        public void OnData(PaxMemberHeader member, PaxDataSegment segment, long offsetInSegmentBytes, ReadOnlySpan<byte> bytes)
        {
            long fileOffset = segment.FileOffsetBytes + offsetInSegmentBytes;
            hash!.Append(fileOffset, bytes);
            if (streamBuffer is not null) bytes.CopyTo(streamBuffer.AsSpan((int)fileOffset));
            else if (handle is not null) RandomAccess.Write(handle, bytes, fileOffset);
        }

        /// <summary>Where the target cannot hold a stream as an xattr (ext4 holds about one block), its bytes still
        /// come back: as the sibling file <c>NAME:STREAM</c>, as GNU tar extracts the archive's stream member.</summary>
        static string KeepStreamAsFile(string ownerPath, string streamName, byte[] bytes)
        {
            if (streamName.Length == 0 || streamName.Contains('/', StringComparison.Ordinal) || streamName.Contains('\0', StringComparison.Ordinal))
                return "its name cannot be a file name, so it is not kept";
            string sibling = ownerPath + ":" + streamName;
            try
            {
                using (var f = new FileStream(sibling, FileMode.CreateNew, FileAccess.Write)) f.Write(bytes);
                return $"its bytes are kept in '{Path.GetFileName(sibling)}' beside the file";
            }
            catch (IOException e)
            {
                return $"keeping it as '{Path.GetFileName(sibling)}' failed too: {e.Message}";
            }
        }

        public void OnMemberEnd(PaxMemberHeader m)
        {
            if (hash is null) return;
            ulong actual = hash.Complete();
            bool good = expected is null || actual == expected.XxHash64;
            string member = writingMember!;
            if (streamBuffer is not null)
            {
                string name = expected!.Name;
                if (!good) Damaged.Add(new FileRestoreProblem(member, $"stream '{name}' does not match its checksum in the index; not restored"));
                else
                {
                    int err = PosixFile.SetXattr(streamOwnerPath!, "user." + name, streamBuffer);
                    if (err == 0) { streams++; RestoreTimesOf(streamOwnerPath!); }
                    else NotRestored.Add(new FileRestoreProblem(member, $"stream '{name}' as xattr user.{name}: {PosixFile.Describe(err)}; {KeepStreamAsFile(streamOwnerPath!, name, streamBuffer)}"));
                }
                streamBuffer = null;
                hash = null;
                return;
            }
            string full = writingPath!;
            files++;
            dataBytes += m.SizeBytes;
            if (!good)
            {
                CloseOpenFile();
                string aside = full + DamagedSuffix;
                File.Move(full, aside, overwrite: true);
                Damaged.Add(new FileRestoreProblem(member,
                    $"data does not match its checksum in the index (xxHash64 {actual:X16}, expected {expected!.XxHash64:X16}); kept as '{Path.GetFileName(aside)}'"));
                full = aside;
            }
            restored[member] = full;
            // Metadata goes on while the file is still open, its times last and through the handle (futimens), as GNU tar
            // does: a FUSE file system (ntfs-3g) handles the release of a closed file asynchronously, after later calls.
            ApplyMetadata(m, full, isSymlink: false, handle);
            CloseOpenFile();
            hash = null;
        }

        /// <summary>Setting an xattr leaves times alone on most file systems, but not on all FUSE ones; the file's times are set again.</summary>
        void RestoreTimesOf(string full)
        {
            var m = lastFileMember;
            if (m is not null && restored.GetValueOrDefault(m.Path) == full) PosixFile.SetTimes(full, m.Accessed, m.Modified);
        }

        PaxMemberHeader? lastFileMember;

        public void CloseOpenFile()
        {
            handle?.Dispose();
            handle = null;
        }

        /// <param name="open">The file's still-open handle: its times are set through it (see the comment where files end).</param>
        void ApplyMetadata(PaxMemberHeader m, string full, bool isSymlink, SafeFileHandle? open = null)
        {
            if (!isSymlink && m.Kind != PaxEntryKind.Directory) lastFileMember = m;
            if (root)
            {
                int err = PosixFile.SetOwner(full, (uint)m.Uid, (uint)m.Gid);
                if (err != 0) NotRestored.Add(new FileRestoreProblem(m.Path, $"owner {m.Uid}:{m.Gid}: {PosixFile.Describe(err)}"));
            }
            else ownersSkipped++;
            if (!isSymlink)
            {
                try { File.SetUnixFileMode(full, (UnixFileMode)m.Mode); }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    NotRestored.Add(new FileRestoreProblem(m.Path, $"mode {Convert.ToString(m.Mode, 8)}: {e.Message}"));
                }
                foreach (var (name, value) in m.Xattrs.OrderBy(kv => kv.Key, StringComparer.Ordinal))
                {
                    if (name.StartsWith("system.ntfs_", StringComparison.Ordinal) && !targetIsNtfs) { ntfsSkipped++; continue; }
                    if (name == PaxEntryEncoder.NtfsCreationTimeXattr && value.Length == 8)
                    {
                        // ntfs-3g loses a later utimensat once the creation time alone was set: all four NTFS times go at once.
                        int e = PosixFile.SetXattr(full, NtfsTimesXattr, NtfsTimes(value, m));
                        if (e != 0) NotRestored.Add(new FileRestoreProblem(m.Path, $"xattr {NtfsTimesXattr}: {PosixFile.Describe(e)}"));
                        continue;
                    }
                    if (name.StartsWith("user.", StringComparison.Ordinal) && !CheckHeaderStream(m, name[5..], value)) continue;
                    int err = PosixFile.SetXattr(full, name, value);
                    if (err != 0) NotRestored.Add(new FileRestoreProblem(m.Path, $"xattr {name}: {PosixFile.Describe(err)}"));
                    else if (name.StartsWith("user.", StringComparison.Ordinal) && IsIndexedStream(m, name[5..])) streams++;
                }
            }
            if (m.Kind != PaxEntryKind.Directory)
            {
                int err = open is null ? PosixFile.SetTimes(full, m.Accessed, m.Modified) : PosixFile.SetTimes(open, m.Accessed, m.Modified);
                if (err != 0) NotRestored.Add(new FileRestoreProblem(m.Path, $"times: {PosixFile.Describe(err)}"));
            }
        }

        const string NtfsTimesXattr = "system.ntfs_times_be";

        /// <summary>ntfs-3g's <c>system.ntfs_times_be</c>: creation, last write, last access and MFT change time, each a
        /// big-endian FILETIME (100 ns since 1601).</summary>
        static byte[] NtfsTimes(byte[] creationBigEndian, PaxMemberHeader m)
        {
            var value = new byte[32];
            creationBigEndian.CopyTo(value, 0);
            ulong created = System.Buffers.Binary.BinaryPrimitives.ReadUInt64BigEndian(creationBigEndian);
            ulong FileTime(MapTime? t) => t is { } x ? checked((ulong)((x.UnixSeconds + 11_644_473_600L) * 10_000_000L + x.Nanoseconds / 100)) : created;
            System.Buffers.Binary.BinaryPrimitives.WriteUInt64BigEndian(value.AsSpan(8), FileTime(m.Modified));
            System.Buffers.Binary.BinaryPrimitives.WriteUInt64BigEndian(value.AsSpan(16), FileTime(m.Accessed));
            System.Buffers.Binary.BinaryPrimitives.WriteUInt64BigEndian(value.AsSpan(24), FileTime(m.Changed ?? m.Modified));
            return value;
        }

        bool IsIndexedStream(PaxMemberHeader m, string name) =>
            EntryOf(m)?.Streams.Any(s => s.Storage == TapeStreamStorage.ExtendedHeader && s.Name == name) == true;

        /// <summary>Small alternate data streams travel in the header; their checksum is in the index like any stream's.</summary>
        bool CheckHeaderStream(PaxMemberHeader m, string name, byte[] value)
        {
            var s = EntryOf(m)?.Streams.FirstOrDefault(x => x.Storage == TapeStreamStorage.ExtendedHeader && x.Name == name);
            if (s is null || (value.Length == s.SizeBytes && XxHash64.HashToUInt64(value) == s.XxHash64)) return true;
            Damaged.Add(new FileRestoreProblem(m.Path, $"stream '{name}' does not match its checksum in the index; not restored"));
            return false;
        }

        public FileRestoreResult Finish()
        {
            // Deepest first, so setting a parent's times comes after every change inside it.
            foreach (var (full, m) in directories.OrderByDescending(d => d.FullPath.Count(c => c == '/')))
            {
                ApplyMetadata(m, full, isSymlink: false);
                int err = PosixFile.SetTimes(full, m.Accessed, m.Modified);
                if (err != 0) NotRestored.Add(new FileRestoreProblem(m.Path, $"times: {PosixFile.Describe(err)}"));
            }
            if (ntfsSkipped > 0)
                NotRestored.Add(new FileRestoreProblem("", $"NTFS attributes and creation times of {ntfsSkipped} items not restored: the target is not an NTFS file system"));
            if (ownersSkipped > 0)
                NotRestored.Add(new FileRestoreProblem("", $"owners of {ownersSkipped} items not restored: restoring ownership needs root"));
            var unmatched = patterns.Where((_, i) => !patternUsed[i]).Select(p => p.Pattern).ToList();
            return new FileRestoreResult(files, dirs, symlinks, hardLinks, streams, dataBytes, Refused, Damaged, NotRestored, unmatched) { SpecialFiles = specials };
        }
    }
}
