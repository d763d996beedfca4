using System.Text.RegularExpressions;

namespace Sockeye.Cli;

/// <summary>The URL argument of <c>sockeye connect</c>: ws:// or wss://, with the scheme optional.</summary>
internal static partial class ConnectTarget
{
    /// <summary>
    /// <c>host:port/path</c> without a scheme means <c>ws://host:port/path</c>, as in websocat and wscat. (Parsed as a
    /// URI as is, <c>localhost:9876</c> would be the scheme "localhost" and <c>127.0.0.1:9876</c> no URI at all.)
    /// </summary>
    public static bool TryParse(string text, out Uri uri, out string error)
    {
        string full = HasScheme().IsMatch(text) ? text : "ws://" + text;
        error = string.Empty;
        if (!Uri.TryCreate(full, UriKind.Absolute, out uri!) || uri.Host.Length == 0)
        {
            error = $"URL: not a URL: {text}";
            return false;
        }

        if (uri.Scheme is not ("ws" or "wss" or "http" or "https"))
        {
            error = $"URL: unsupported scheme '{uri.Scheme}' in {text} (use ws:// or wss://)";
            return false;
        }

        return true;
    }

    [GeneratedRegex("^[A-Za-z][A-Za-z0-9+.-]*://")]
    private static partial Regex HasScheme();
}
