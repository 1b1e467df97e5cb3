using Offhost.Core.Mapping;

namespace Offhost.Catalog.Tests;

static class Samples
{
    public static CatalogFile File(string path, int i) => new(CatalogFileKind.File, path)
    {
        SizeBytes = 4096 + i,
        Mode = 0x81A4,
        Uid = 1000,
        Gid = 1000,
        Modified = new MapTime(1_700_000_000 + i, 123_456_789),
        Streams =
        [
            new CatalogStream("", 4096 + i)
            {
                Location = new TapeLocation("TAPE01", 1, 512L * i, 512L * i + 1024),
                XxHash64 = unchecked((ulong)i * 0x9E3779B97F4A7C15UL),
                Extents = [new SourceExtent(0, 1000 + 8L * i, 2, 0)],
            },
        ],
    };
}
