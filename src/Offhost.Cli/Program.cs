using System.CommandLine;
using Offhost.Cli;
using Offhost.Cli.Commands;

var root = new RootCommand("Offhost: off-host backup. Maps frozen file systems to physical extents and copies them to tape with EXTENDED COPY.");
foreach (var command in CommandTable.All()) root.Subcommands.Add(command);
return await CliRunner.InvokeAsync(root, args);
