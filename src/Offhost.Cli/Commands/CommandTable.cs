using System.CommandLine;

namespace Offhost.Cli.Commands;

/// <summary>Every verb of the CLI, one file each under Commands/.</summary>
internal static class CommandTable
{
    public static IEnumerable<Command> All()
    {
        yield return MapCommand.Create();
        yield return BackupCommand.Create();
        yield return BackupsCommand.Create();
        yield return FilesCommand.Create();
        yield return RestoreCommand.Create();
        yield return VerifyCommand.Create();
        yield return TapeCommand.Create();
        yield return BackupImageCommand.Create();
        yield return RestoreImageCommand.Create();
        yield return RestoreFilesCommand.Create();
        yield return VerifyImageCommand.Create();
        yield return CatalogCommand.Create();
        yield return IscsiCommand.Create();
        yield return AgentCommand.Create();
    }
}
