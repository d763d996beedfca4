using System.CommandLine;
using Sockeye.Cli;
using Sockeye.Cli.Bench;

var root = new RootCommand("sockeye: a WebSocket (RFC 6455) server, client and load generator.")
{
    ServeCommand.Create(),
    ConnectCommand.Create(),
    BenchCommand.Create(),
};

ParseResult parse = root.Parse(args);
if (parse.Action is System.CommandLine.Invocation.ParseErrorAction)
{
    return await ParseErrors.ReportAsync(parse).ConfigureAwait(false);
}

return await parse.InvokeAsync().ConfigureAwait(false);
