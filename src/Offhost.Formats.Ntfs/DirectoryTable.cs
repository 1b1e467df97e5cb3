using Offhost.Core.Errors;

namespace Offhost.Formats.Ntfs;

/// <summary>
/// The compact table built by the first pass over the MFT: for every directory, its parent reference and best name.
/// Full paths are built from it on demand (and cached per directory), following $FILE_NAME parent references only,
/// so a damaged directory index does not hide files. Not thread-safe.
/// </summary>
internal sealed class DirectoryTable(Func<ulong, long> recordDeviceOffset)
{
    public const ulong RootRecord = 5;
    public const ulong ExtendRecord = 11;
    /// <summary>Records below this number are the NTFS metadata files ($MFT … $Extend and reserved slots).</summary>
    public const ulong FirstUserRecord = 16;

    sealed class Node
    {
        public ulong ParentRecord;
        public ushort ParentSequence;
        public ushort Sequence;
        public bool IsDirectoryRecord;
        public byte NameNamespace = byte.MaxValue;
        public string? Name;
        public string? Path;
        public string? Error;
        public bool IsMetadata;
        public bool Resolving;
    }

    readonly Dictionary<ulong, Node> nodes = [];

    public int Count => nodes.Count;

    public void AddDirectoryRecord(ulong record, ushort sequence)
    {
        var n = Get(record);
        n.IsDirectoryRecord = true;
        n.Sequence = sequence;
    }

    /// <summary>Offers a directory name; Win32 and POSIX names win over DOS 8.3 names.</summary>
    public void AddName(ulong record, ulong parentReference, byte nameSpace, Func<string> name)
    {
        var n = Get(record);
        bool better = n.Name is null || (n.NameNamespace == FileNameAttribute.NamespaceDos && nameSpace != FileNameAttribute.NamespaceDos);
        if (!better) return;
        var (parent, seq) = FileRecord.SplitReference(parentReference);
        n.ParentRecord = parent;
        n.ParentSequence = seq;
        n.NameNamespace = nameSpace;
        n.Name = name();
    }

    Node Get(ulong record)
    {
        if (!nodes.TryGetValue(record, out var n)) nodes[record] = n = new Node();
        return n;
    }

    /// <summary>
    /// The absolute path of directory <paramref name="record"/> referenced with <paramref name="sequence"/>. Returns false
    /// with <paramref name="error"/> when the chain is broken (missing/stale parent or a loop). <paramref name="metadata"/>
    /// is true when the directory is a metadata directory ($Extend or below it).
    /// </summary>
    public bool TryGetPath(ulong record, ushort sequence, out string path, out bool metadata, out string? error)
    {
        path = "";
        metadata = false;
        error = null;
        if (!nodes.TryGetValue(record, out var start) || !start.IsDirectoryRecord)
        {
            error = $"parent directory record {record} is not an in-use directory";
            return false;
        }
        if (sequence != 0 && start.Sequence != sequence)
        {
            error = $"parent reference to record {record} has sequence {sequence}, the record has {start.Sequence} (stale reference)";
            return false;
        }
        if (start.Path is null && start.Error is null) Resolve(record, start);
        metadata = start.IsMetadata;
        if (start.Error is not null)
        {
            error = start.Error;
            return false;
        }
        path = start.Path!;
        return true;
    }

    void Resolve(ulong record, Node start)
    {
        // Walk up until a resolved node, the root or a failure, then fill the chain top-down. Iterative: chains can be deep.
        var chain = new List<(ulong Record, Node Node)>();
        ulong current = record;
        var node = start;
        string? error = null;
        string basePath = "";
        bool baseMetadata = false;
        while (true)
        {
            if (node.Path is not null || node.Error is not null)
            {
                basePath = node.Path ?? "";
                error = node.Error;
                baseMetadata = node.IsMetadata;
                break;
            }
            if (current == RootRecord)
            {
                node.Path = "/";
                basePath = "/";
                break;
            }
            if (current < FirstUserRecord)
            {
                node.IsMetadata = true;
                node.Path = "/" + (node.Name ?? "");
                basePath = node.Path;
                baseMetadata = true;
                break;
            }
            if (node.Resolving)
            {
                error = $"{FileRecord.Name(current)} at byte offset {recordDeviceOffset(current)}: directory parent chain loops back to record {current}";
                break;
            }
            node.Resolving = true;
            chain.Add((current, node));
            if (node.Name is null)
            {
                error = $"{FileRecord.Name(current)} at byte offset {recordDeviceOffset(current)}: directory has no $FILE_NAME";
                break;
            }
            ulong parent = node.ParentRecord;
            if (!nodes.TryGetValue(parent, out var pn) || !pn.IsDirectoryRecord)
            {
                error = $"{FileRecord.Name(current)} at byte offset {recordDeviceOffset(current)}: parent directory record {parent} is not an in-use directory";
                break;
            }
            if (node.ParentSequence != 0 && pn.Sequence != node.ParentSequence)
            {
                error = $"{FileRecord.Name(current)} at byte offset {recordDeviceOffset(current)}: parent reference to record {parent} is stale (sequence {node.ParentSequence}, record has {pn.Sequence})";
                break;
            }
            current = parent;
            node = pn;
        }
        for (int i = chain.Count - 1; i >= 0; i--)
        {
            var n = chain[i].Node;
            n.Resolving = false;
            if (error is not null)
            {
                n.Error = error;
                continue;
            }
            n.IsMetadata = baseMetadata;
            n.Path = basePath == "/" ? "/" + n.Name : basePath + "/" + n.Name;
            basePath = n.Path;
        }
    }

    /// <summary>Joins a directory path and a name.</summary>
    public static string Join(string dir, string name) => dir == "/" ? "/" + name : dir + "/" + name;

    internal static CorruptStructureException? Unused => null;
}
