using Offhost.Io.FileSystems;

namespace Offhost.Agent.FrozenImages;

/// <summary>Writes to an image file, seen as changes of its size, mtime or ctime (nanoseconds, from statx).</summary>
public sealed class ImageFileWriteProbe : IWriteActivityProbe
{
    readonly string _path;
    (long Size, long Mtime, long Ctime)? _last;
    long _changes;

    public ImageFileWriteProbe(string path)
    {
        _path = path;
        Description = $"{path} (size, mtime and ctime)";
    }

    public string Description { get; }

    public WriteSample Sample()
    {
        var st = FileStatus.Of(_path);
        var now = (st.SizeBytes, st.ModifiedNanoseconds, st.ChangedNanoseconds);
        if (_last is { } l && l != now) _changes++;
        _last = now;
        return new WriteSample(_changes, HashCode.Combine(now.SizeBytes, now.ModifiedNanoseconds, now.ChangedNanoseconds));
    }
}
