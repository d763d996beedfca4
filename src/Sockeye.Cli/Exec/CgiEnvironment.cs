using System.Buffers;
using System.Globalization;
using System.Net;
using System.Reflection;
using System.Text;
using System.Text.Unicode;

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
            if (HeaderVariable(name) is { } variable)
            {
                // Repeated fields are joined with ", " (RFC 9110 §5.3), as GetHeader does.
                env[variable] = HeaderValue(request.GetHeader(name) ?? string.Empty);
            }
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

    /// <summary>
    /// Whether a decoded path holds a control character (C0, DEL, C1): <c>%0a</c> would put a line break into
    /// PATH_INFO, and <c>%00</c> would cut it short at exec (environment strings end at NUL). Such paths get 400.
    /// </summary>
    public static bool HasControlCharacter(string path) => path.AsSpan().ContainsAny(ControlCharacters);

    private static readonly SearchValues<char> ControlCharacters = SearchValues.Create(
        [.. Enumerable.Range(0, 0x20).Select(c => (char)c), '\x7F', .. Enumerable.Range(0x80, 0x20).Select(c => (char)c)]);

    /// <summary>
    /// HTTP_ + the name upper-cased with '-' as '_'; null for a name with any other character than a letter, digit or
    /// '-'. Such headers are dropped, as nginx and Apache do: otherwise <c>X_Forwarded_For</c> would arrive as
    /// HTTP_X_FORWARDED_FOR, spoofing the real <c>X-Forwarded-For</c> a proxy in front set. <c>Proxy</c> is dropped
    /// too: HTTP_PROXY is the proxy setting of many HTTP clients ("httpoxy", CVE-2016-5385).
    /// </summary>
    private static string? HeaderVariable(string header)
    {
        if (header.Equals("Proxy", StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }

        var name = new StringBuilder("HTTP_", 5 + header.Length);
        foreach (char c in header)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c != '-')
            {
                return null;
            }

            name.Append(c == '-' ? '_' : char.ToUpperInvariant(c));
        }

        return name.ToString();
    }

    /// <summary>
    /// A header value as the program should see it. The parser keeps each byte as one char (Latin-1); passed on like
    /// that, UTF-8 "café" would be encoded twice ("cafÃ©"). Bytes that are valid UTF-8 arrive as sent; anything else is
    /// read as ISO-8859-1 (RFC 9110 §5.5: obs-text historically was) and arrives as its UTF-8 encoding.
    /// </summary>
    private static string HeaderValue(string latin1)
    {
        if (Ascii.IsValid(latin1))
        {
            return latin1;
        }

        byte[] bytes = Encoding.Latin1.GetBytes(latin1);
        return Utf8.IsValid(bytes) ? Encoding.UTF8.GetString(bytes) : latin1;
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
