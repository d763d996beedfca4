using System.Reflection;
using Sockeye.Server;

namespace Sockeye.Cli;

/// <summary>
/// Serves the browser client <c>sockeye.js</c> (and its <c>sockeye.d.ts</c>) at fixed paths, in front of the demo
/// page or a --static directory, so a page can <c>import { connect } from "/sockeye.js"</c> with no build step.
/// </summary>
internal sealed class ClientScript(StaticFiles inner) : StaticFiles
{
    private static readonly StaticFiles s_client = StaticFiles.FromMemory(new Dictionary<string, byte[]>
    {
        ["/sockeye.js"] = Load("client/sockeye.js"),
        ["/sockeye.d.ts"] = Load("client/sockeye.d.ts"),
    });

    public override StaticFile? Open(string path) =>
        path is "/sockeye.js" or "/sockeye.d.ts" ? s_client.Open(path) : inner.Open(path);

    private static byte[] Load(string name)
    {
        using Stream stream = Assembly.GetExecutingAssembly().GetManifestResourceStream(name)
            ?? throw new InvalidOperationException($"resource {name} missing");
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }
}
