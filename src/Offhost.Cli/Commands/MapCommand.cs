using System.CommandLine;

namespace Offhost.Cli.Commands;

/// <summary><c>offhost map SOURCE [--json] [--partition N]</c>: the storage map of a volume.</summary>
internal static class MapCommand
{
    public static Command Create()
    {
        var source = new Argument<string>("SOURCE") { Description = "Volume image, whole-disk image, block device or iscsi:// LUN" };
        var json = new Option<bool>("--json") { Description = "Print the map as JSON Lines on stdout" };
        var partition = new Option<int?>("--partition") { Description = "Map only partition N (1-based) of a partitioned disk" };
        var command = new Command("map", "Print the storage map of a file system: every file as resident bytes or physical extents")
        {
            source, json, partition,
        };
        command.SetAction((parseResult, cancellationToken) =>
            Task.FromResult(ExitCodes.Failure));
        return command;
    }
}
