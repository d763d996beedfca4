using System.CommandLine;
using Sockeye.Cli;
using Sockeye.Cli.Bench;

var root = new RootCommand("sockeye: a WebSocket (RFC 6455) server, client and load generator.")
{
    ServeCommand.Create(),
    ConnectCommand.Create(),
    BenchCommand.Create(),
};

return await root.Parse(args).InvokeAsync().ConfigureAwait(false);
