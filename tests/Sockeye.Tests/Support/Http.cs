using System.Buffers;
using System.Text;
using Sockeye.Protocol;

namespace Sockeye.Tests.Support;

internal static class Http
{
    public static HttpHead Request(string head)
    {
        HttpParseStatus status = HttpHeadParser.TryParseRequest(new ReadOnlySequence<byte>(Encoding.Latin1.GetBytes(head)), 16 * 1024, 100,
            out HttpHead? parsed, out _, out _, out string error);
        Assert.True(status == HttpParseStatus.Done, $"request did not parse: {status} {error}");
        return parsed!;
    }

    public static HttpHead Response(string head)
    {
        HttpParseStatus status = HttpHeadParser.TryParseResponse(new ReadOnlySequence<byte>(Encoding.Latin1.GetBytes(head)), 16 * 1024, 100,
            out HttpHead? parsed, out _, out string error);
        Assert.True(status == HttpParseStatus.Done, $"response did not parse: {status} {error}");
        return parsed!;
    }

    public const string SampleKey = "dGhlIHNhbXBsZSBub25jZQ==";
    public const string SampleAccept = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";

    /// <summary>A valid upgrade request with one line replaced or removed (value null) by header name.</summary>
    public static string Upgrade(string requestLine = "GET /chat HTTP/1.1", params (string Name, string? Value)[] changes)
    {
        var fields = new List<(string Name, string Value)>
        {
            ("Host", "localhost"), // a loopback name: test servers listen on 127.0.0.1 (HostPolicy)
            ("Upgrade", "websocket"),
            ("Connection", "Upgrade"),
            ("Sec-WebSocket-Key", SampleKey),
            ("Sec-WebSocket-Version", "13"),
        };
        foreach ((string name, string? value) in changes)
        {
            int index = fields.FindIndex(f => string.Equals(f.Name, name, StringComparison.OrdinalIgnoreCase));
            if (index >= 0)
            {
                fields.RemoveAt(index);
            }

            if (value is not null)
            {
                fields.Insert(index >= 0 ? index : fields.Count, (name, value));
            }
        }

        var sb = new StringBuilder(requestLine).Append("\r\n");
        foreach ((string name, string value) in fields)
        {
            sb.Append(name).Append(": ").Append(value).Append("\r\n");
        }

        return sb.Append("\r\n").ToString();
    }
}
