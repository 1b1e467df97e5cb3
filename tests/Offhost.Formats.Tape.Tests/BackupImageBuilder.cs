using System.Buffers;
using System.IO.Hashing;
using Offhost.Core.Devices;
using Offhost.Core.Mapping;
using Offhost.Formats.Tape.Index;
using Offhost.Formats.Tape.Pax;

namespace Offhost.Formats.Tape.Tests;

/// <summary>
/// Builds a backup image the way the data mover will: encoder headers as inline data, file bodies copied as whole
/// 512-byte "disk blocks" (the bytes past EOF in the last block are stale disk bytes, here 0xA5), end marker;
/// then the index. Test-only glue over the product encoders.
/// </summary>
internal sealed class BackupImageBuilder
{
    public const byte StaleByte = 0xA5;

    readonly List<(PaxEntry Entry, string? Source)> members = [];

    /// <param name="source">File whose bytes make the member's data (null for members without data).</param>
    public void Add(PaxEntry entry, string? source) => members.Add((entry, source));

    public (byte[] Archive, List<TapeIndexEntry> Index) Build()
    {
        var archive = new MemoryStream();
        var index = new List<TapeIndexEntry>();
        var layout = new PaxArchiveLayout();
        foreach (var (entry, source) in members)
        {
            long memberOffset = archive.Position;
            var placed = layout.Add(entry);
            Assert.Equal(memberOffset, placed.MemberOffsetBytes);
            var encoded = placed.Encoded;
            archive.Write(encoded.Header);
            Assert.Equal(memberOffset + encoded.Layout.DataOffsetBytes, archive.Position);
            byte[] content = source is null ? [] : File.ReadAllBytes(source);
            foreach (var seg in encoded.Layout.Segments)
            {
                Assert.Equal(memberOffset + seg.MemberOffsetBytes, archive.Position);
                var block = new byte[seg.PaddedBytes];
                Array.Fill(block, StaleByte);
                content.AsSpan((int)seg.FileOffsetBytes, (int)seg.LengthBytes).CopyTo(block);
                archive.Write(block);
            }
            Assert.Equal(memberOffset + encoded.Layout.TotalBytes, archive.Position);
            index.Add(new TapeIndexEntry(entry.Path.TrimStart('/'), entry.Kind, memberOffset)
            {
                SizeBytes = entry.SizeBytes,
                Mode = entry.Mode,
                Uid = entry.Uid,
                Gid = entry.Gid,
                Modified = entry.Modified,
                LinkTarget = entry.LinkTarget,
                Streams = entry.Kind == PaxEntryKind.File
                    ? [new TapeIndexStream("", entry.SizeBytes, memberOffset, memberOffset + encoded.Layout.DataOffsetBytes, XxHash64.HashToUInt64(content))
                        { Sparse = entry.SparseMap is not null }]
                    : [],
            });
        }
        archive.Write(layout.End());
        Assert.Equal(layout.LengthBytes, archive.Length);
        return (archive.ToArray(), index);
    }

    /// <summary>Writes <paramref name="bytes"/> as one tape file of records of <paramref name="recordBytes"/> (the last one shorter) and a filemark.</summary>
    public static async Task WriteTapeFileAsync(IStreamDevice device, byte[] bytes, int recordBytes, CancellationToken ct)
    {
        for (int at = 0; at < bytes.Length; at += recordBytes)
            await device.WriteRecordAsync(bytes.AsMemory(at, Math.Min(recordBytes, bytes.Length - at)), ct);
        await device.WriteFilemarksAsync(1, ct);
    }

    /// <summary>Reads the tape file at the current position to its filemark.</summary>
    public static async Task<byte[]> ReadTapeFileAsync(IStreamDevice device, CancellationToken ct)
    {
        var output = new ArrayBufferWriter<byte>();
        var buffer = new byte[device.MaxRecordBytes];
        while (true)
        {
            var r = await device.ReadRecordAsync(buffer, ct);
            if (r.Kind != TapeReadKind.Record) return output.WrittenSpan.ToArray();
            output.Write(buffer.AsSpan(0, r.LengthBytes));
        }
    }

    public static MapTime Time(long seconds, int nanos) => new(seconds, nanos);
}
