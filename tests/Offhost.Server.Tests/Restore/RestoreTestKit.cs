using System.Buffers.Binary;
using Offhost.Core.Devices;
using Offhost.Core.Mapping;
using Offhost.Formats.Tape.Label;
using Offhost.Io.Block;
using Offhost.Io.Tape;
using Offhost.Scsi.Identification;
using Offhost.Server.Backup;
using Offhost.Testing;

namespace Offhost.Server.Tests.Restore;

/// <summary>Backs up images to SIMH tapes the way the backup-image command does, and snapshots directory trees
/// through the kernel (python's os.lstat/listxattr/readlink) for comparisons.</summary>
public static class RestoreTestKit
{
    public static async Task<BackupImageResult> BackupAsync(string imagePath, string tapePath, CancellationToken ct)
    {
        using var source = new FileBlockSource(imagePath);
        await using var device = FileBlockDevice.Open(imagePath, new FileBlockDeviceOptions { Writable = false });
        await using var tape = SimhTapeDevice.Create(tapePath, new VolumeLabel("RST001", 512L << 20, 1L << 20, new MapTime(1_700_000_000, 0), Guid.NewGuid()));
        await tape.SpaceAsync(SpaceUnit.EndOfData, 1, ct);
        var request = new BackupImageRequest(source, device, device.NaaDesignator, tape, NaaDesignator.Naa6FromIdentity("tape:" + tape.Label!.VolumeUuid), imagePath)
        {
            RecordBytes = 64 * 1024,
        };
        return await BackupImageJob.RunAsync(request, null, ct);
    }

    const string SnapshotScript = """
        import os, sys, json, hashlib, stat as S
        root, flags = sys.argv[1], sys.argv[2]
        skip = set(a for a in sys.argv[3].split(',') if a) if len(sys.argv) > 3 else set()
        out = []
        for dp, dns, fns in os.walk(root):
            for n in dns + fns:
                p = os.path.join(dp, n)
                rel = os.path.relpath(p, root)
                if rel.split('/')[0] in skip: continue
                st = os.lstat(p)
                t = 'l' if S.S_ISLNK(st.st_mode) else 'd' if S.S_ISDIR(st.st_mode) else 'f'
                r = {'p': rel, 't': t, 'mtime': st.st_mtime_ns}
                if 'meta' in flags: r.update(mode=S.S_IMODE(st.st_mode), uid=st.st_uid, gid=st.st_gid)
                if t == 'f': r.update(size=st.st_size, nlink=st.st_nlink)
                if t == 'f' and 'atime' in flags: r['atime'] = st.st_atime_ns
                if t == 'l': r['target'] = os.readlink(p)
                if t != 'l':
                    r['x'] = {k: os.getxattr(p, k, follow_symlinks=False).hex() for k in os.listxattr(p, follow_symlinks=False) if k.startswith('user.')}
                out.append(r)
        for r in out:
            if r['t'] == 'f':
                with open(os.path.join(root, r['p']), 'rb') as f: r['sha'] = hashlib.sha256(f.read()).hexdigest()
        for r in sorted(out, key=lambda r: r['p']): print(json.dumps(r, sort_keys=True, ensure_ascii=False))
        """;

    /// <summary>One JSON line per entry under <paramref name="root"/>: type, mtime (ns), size, link count, symlink target,
    /// user.* xattrs, SHA-256; with "meta" also mode/uid/gid, with "atime" the access time. Metadata is read before content.</summary>
    public static string[] Snapshot(string root, string flags, params string[] skipTopLevel)
    {
        string script = Path.Combine(Path.GetTempPath(), $"offhost-snapshot-{Environment.ProcessId}.py");
        File.WriteAllText(script, SnapshotScript);
        return Tool.RunChecked("python3", [script, root, flags, string.Join(',', skipTopLevel)], stdin: null)
            .Split('\n', StringSplitOptions.RemoveEmptyEntries);
    }

    /// <summary>Flips one bit of archive byte <paramref name="archiveOffsetBytes"/> of tape file <paramref name="fileNumber"/>
    /// inside the .tap image, walking the SIMH framing (length word, data padded to even, length word).</summary>
    public static async Task FlipArchiveByteAsync(string tapePath, long fileNumber, long archiveOffsetBytes, CancellationToken ct)
    {
        long start;
        await using (var tape = SimhTapeDevice.Open(tapePath, writable: false))
            start = (await tape.ScanAsync(ct)).Single(f => f.FileNumber == fileNumber).StartOffsetBytes;
        using var f = new FileStream(tapePath, FileMode.Open, FileAccess.ReadWrite);
        var word = new byte[4];
        long pos = start, left = archiveOffsetBytes;
        while (true)
        {
            f.Position = pos;
            f.ReadExactly(word);
            long len = BinaryPrimitives.ReadUInt32LittleEndian(word) & 0x00FF_FFFF;
            if (len == 0) throw new InvalidOperationException("reached a tape mark before the byte");
            if (left < len)
            {
                f.Position = pos + 4 + left;
                int b = f.ReadByte();
                f.Position = pos + 4 + left;
                f.WriteByte((byte)(b ^ 0x01));
                return;
            }
            left -= len;
            pos += 4 + len + (len & 1) + 4;
        }
    }
}
