namespace Offhost.Formats.Tape.Pax;

/// <summary>Naming conventions of the backup image for NTFS alternate data streams (docs/formats/tape-format.md).</summary>
public static class PaxNaming
{
    /// <summary>Largest stream stored as an xattr record rather than as its own member.</summary>
    public const int MaxXattrStreamBytes = 64 * 1024;

    /// <summary>Member name of a stream stored as its own member: <c>PATH:STREAM</c> (ntfs-3g streams_interface=windows form).</summary>
    public static string AlternateStreamMemberName(string filePath, string streamName)
    {
        if (streamName.Length == 0 || streamName.Contains('/') || streamName.Contains('\0'))
            throw new ArgumentException($"invalid stream name '{streamName}'", nameof(streamName));
        return filePath + ":" + streamName;
    }

    /// <summary>xattr name of a small stream stored in the file's extended header: <c>user.STREAM</c> (ntfs-3g streams_interface=xattr).</summary>
    public static string AlternateStreamXattrName(string streamName)
    {
        if (streamName.Length == 0 || streamName.Contains('\0'))
            throw new ArgumentException($"invalid stream name '{streamName}'", nameof(streamName));
        return "user." + streamName;
    }
}
