using Offhost.Core.Devices;
using Offhost.Io.Block;

namespace Offhost.Cli;

/// <summary>Opens the SOURCE argument of a command: an image file or block device (iscsi:// LUNs too once registered).</summary>
internal static class Sources
{
    public static IBlockSource OpenBlockSource(string source) => new FileBlockSource(source);
}
