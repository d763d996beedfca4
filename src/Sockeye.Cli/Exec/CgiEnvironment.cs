using System.Globalization;
using System.Net;
using System.Reflection;
using System.Text;

namespace Sockeye.Cli.Exec;

/// <summary>
/// The environment of a program: nothing of the server's own but PATH and the variables named by --passenv, plus
/// CGI-style variables (RFC 3875 §4.1) describing the connection, and PYTHONUNBUFFERED=1 so Python output streams.
/// </summary>
internal static class CgiEnvironment
{
    private static readonly string Software = $"sockeye/{typeof(CgiEnvironment).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? "0"}";

    /// <summary>Variables for a program serving <paramref name="connection"/>; <paramref name="scriptName"/> is its --dir path.</summary>
    public static Dictionary<string, string> ForConnection(WebSocketConnection connection, ExecSettings settings, string scriptName)
    {
        WebSocketRequest request = connection.Request;
        Dictionary<string, string> env = Base(settings);
        env["GATEWAY_INTERFACE"] = "CGI/1.1";
        env["SERVER_SOFTWARE"] = Software;
        env["SERVER_PROTOCOL"] = "HTTP/1.1";
        env["REQUEST_METHOD"] = request.Method;
        env["REQUEST_URI"] = request.RawPath + request.QueryString;
        env["SCRIPT_NAME"] = scriptName;
        env["PATH_INFO"] = request.Path[scriptName.Length..];
        env["QUERY_STRING"] = request.QueryString.TrimStart('?');
        env["SOCKEYE_CONNECTION_ID"] = connection.Id.ToString(CultureInfo.InvariantCulture);
        if ((connection.RemoteEndPoint ?? request.RemoteEndPoint) is IPEndPoint remote)
        {
            string address = (remote.Address.IsIPv4MappedToIPv6 ? remote.Address.MapToIPv4() : remote.Address).ToString();
            env["REMOTE_ADDR"] = address;
            env["REMOTE_HOST"] = address;
            env["REMOTE_PORT"] = remote.Port.ToString(CultureInfo.InvariantCulture);
        }

        if (request.LocalEndPoint is IPEndPoint local)
        {
            env["SERVER_PORT"] = local.Port.ToString(CultureInfo.InvariantCulture);
            env["SERVER_NAME"] = (local.Address.IsIPv4MappedToIPv6 ? local.Address.MapToIPv4() : local.Address).ToString();
        }

        if (HostName(request.GetHeader("Host")) is { Length: > 0 } host)
        {
            env["SERVER_NAME"] = host;
        }

        foreach (var (name, _) in request.Headers)
        {
            // Repeated fields are joined with ", " (RFC 9110 §5.3), as GetHeader does.
            env[HeaderVariable(name)] = request.GetHeader(name) ?? string.Empty;
        }

        return env;
    }

    /// <summary>Variables for a shared process (no connection to describe).</summary>
    public static Dictionary<string, string> ForShared(ExecSettings settings, string path)
    {
        Dictionary<string, string> env = Base(settings);
        env["SERVER_SOFTWARE"] = Software;
        env["PATH_INFO"] = path;
        return env;
    }

    private static Dictionary<string, string> Base(ExecSettings settings)
    {
        var env = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["PATH"] = Environment.GetEnvironmentVariable("PATH") ?? "/usr/local/bin:/usr/bin:/bin",
            ["PYTHONUNBUFFERED"] = "1",
        };
        foreach (string name in settings.PassEnv)
        {
            if (Environment.GetEnvironmentVariable(name) is { } value)
            {
                env[name] = value;
            }
        }

        return env;
    }

    /// <summary>HTTP_ + the name upper-cased, with every character that is not a letter or digit as '_'.</summary>
    private static string HeaderVariable(string header)
    {
        var name = new StringBuilder("HTTP_", 5 + header.Length);
        foreach (char c in header)
        {
            name.Append(char.IsAsciiLetterOrDigit(c) ? char.ToUpperInvariant(c) : '_');
        }

        return name.ToString();
    }

    private static string? HostName(string? host)
    {
        if (string.IsNullOrEmpty(host))
        {
            return null;
        }

        if (host.StartsWith('['))
        {
            int end = host.IndexOf(']', StringComparison.Ordinal);
            return end > 0 ? host[1..end] : host;
        }

        int colon = host.LastIndexOf(':');
        return colon >= 0 ? host[..colon] : host;
    }
}
