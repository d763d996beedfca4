using System.Buffers;
using System.Text;

namespace Sockeye.Protocol;

/// <summary>Outcome of <see cref="HttpHeadParser"/>.</summary>
internal enum HttpParseStatus
{
    /// <summary>The head is complete; <c>consumed</c> marks its end.</summary>
    Done,
    /// <summary>The head is incomplete; read more and try again.</summary>
    NeedMoreData,
    /// <summary>The head is malformed or over a limit; answer with the given status.</summary>
    Invalid,
}

/// <summary>
/// Parses an HTTP/1.1 message head (RFC 9112) from buffered bytes without I/O, following the parse-or-wait contract:
/// it either consumes a whole head or nothing. Strict by design: CRLF line endings, no obs-fold, token field names,
/// and size/line limits enforced before the head is complete so a slow or endless head cannot grow memory.
/// </summary>
internal static class HttpHeadParser
{
    private static ReadOnlySpan<byte> EndOfHead => "\r\n\r\n"u8;

    /// <summary>Parses a request head.</summary>
    /// <param name="buffer">Bytes received so far.</param>
    /// <param name="maxBytes">Largest head accepted (431 beyond).</param>
    /// <param name="maxFields">Largest number of header fields accepted (431 beyond).</param>
    /// <param name="head">The parsed head when <see cref="HttpParseStatus.Done"/>.</param>
    /// <param name="consumed">End of the head when <see cref="HttpParseStatus.Done"/>.</param>
    /// <param name="errorStatus">HTTP status to answer when <see cref="HttpParseStatus.Invalid"/>.</param>
    /// <param name="error">Reason when <see cref="HttpParseStatus.Invalid"/>.</param>
    public static HttpParseStatus TryParseRequest(in ReadOnlySequence<byte> buffer, int maxBytes, int maxFields,
        out HttpHead? head, out SequencePosition consumed, out int errorStatus, out string error) =>
        TryParse(buffer, maxBytes, maxFields, isRequest: true, out head, out consumed, out errorStatus, out error);

    /// <summary>Parses a response head (the client side of the handshake).</summary>
    public static HttpParseStatus TryParseResponse(in ReadOnlySequence<byte> buffer, int maxBytes, int maxFields,
        out HttpHead? head, out SequencePosition consumed, out string error) =>
        TryParse(buffer, maxBytes, maxFields, isRequest: false, out head, out consumed, out _, out error);

    private static HttpParseStatus TryParse(in ReadOnlySequence<byte> buffer, int maxBytes, int maxFields, bool isRequest,
        out HttpHead? head, out SequencePosition consumed, out int errorStatus, out string error)
    {
        head = null;
        consumed = buffer.Start;
        errorStatus = 0;
        error = string.Empty;

        var reader = new SequenceReader<byte>(buffer);
        if (!reader.TryReadTo(out ReadOnlySequence<byte> headBytes, EndOfHead, advancePastDelimiter: true))
        {
            if (buffer.Length > maxBytes)
            {
                return Fail(431, "request header too large", out errorStatus, out error);
            }

            // A complete but malformed start line is refused as such (400) whatever else arrived, so the answer
            // does not depend on how the bytes were split.
            var lineReader = new SequenceReader<byte>(buffer);
            if (lineReader.TryReadTo(out ReadOnlySequence<byte> firstLine, "\r\n"u8) && firstLine.Length <= maxBytes)
            {
                byte[] line = firstLine.ToArray();
                var probe = new HttpHead();
                string? startProblem = isRequest ? ParseRequestLine(line, probe) : ParseStatusLine(line, probe);
                if (startProblem is not null)
                {
                    return Fail(400, startProblem, out errorStatus, out error);
                }
            }

            // Count complete lines so far so an endless stream of short fields is refused early.
            if (CountLines(buffer) > maxFields + 1)
            {
                return Fail(431, "too many header fields", out errorStatus, out error);
            }

            return HttpParseStatus.NeedMoreData;
        }

        if (headBytes.Length + 4 > maxBytes)
        {
            return Fail(431, "request header too large", out errorStatus, out error);
        }

        // Heads are at most maxBytes; one copy to a string-free span keeps the parser simple.
        byte[]? rented = null;
        int length = (int)headBytes.Length;
        Span<byte> span = length <= 4096 ? stackalloc byte[length] : (rented = ArrayPool<byte>.Shared.Rent(length)).AsSpan(0, length);
        try
        {
            headBytes.CopyTo(span);
            var parsed = new HttpHead();
            string? problem = ParseLines(span, parsed, isRequest, maxFields, out int status);
            if (problem is not null)
            {
                return Fail(status, problem, out errorStatus, out error);
            }

            head = parsed;
            consumed = reader.Position;
            return HttpParseStatus.Done;
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }

    private static string? ParseLines(ReadOnlySpan<byte> span, HttpHead head, bool isRequest, int maxFields, out int status)
    {
        status = 400;
        int lineEnd = span.IndexOf("\r\n"u8);
        ReadOnlySpan<byte> startLine = lineEnd < 0 ? span : span[..lineEnd];
        string? problem = isRequest ? ParseRequestLine(startLine, head) : ParseStatusLine(startLine, head);
        if (problem is not null)
        {
            return problem;
        }

        int fields = 0;
        ReadOnlySpan<byte> rest = lineEnd < 0 ? default : span[(lineEnd + 2)..];
        while (!rest.IsEmpty)
        {
            int end = rest.IndexOf("\r\n"u8);
            ReadOnlySpan<byte> line = end < 0 ? rest : rest[..end];
            rest = end < 0 ? default : rest[(end + 2)..];
            if (++fields > maxFields)
            {
                status = 431;
                return "too many header fields";
            }

            // RFC 9112 §5.2: obs-fold is deprecated; a server may reject it with 400.
            if (line.Length > 0 && (line[0] == ' ' || line[0] == '\t'))
            {
                return "obsolete line folding in header";
            }

            int colon = line.IndexOf((byte)':');
            if (colon <= 0 || !IsToken(line[..colon]))
            {
                return "malformed header field";
            }

            ReadOnlySpan<byte> value = line[(colon + 1)..].Trim(" \t"u8);
            if (value.IndexOfAny((byte)'\r', (byte)'\n', (byte)0) >= 0)
            {
                return "invalid character in header value";
            }

            head.Add(Encoding.ASCII.GetString(line[..colon]), Encoding.Latin1.GetString(value));
        }

        return null;
    }

    private static string? ParseRequestLine(ReadOnlySpan<byte> line, HttpHead head)
    {
        // request-line = method SP request-target SP HTTP-version (RFC 9112 §3)
        int sp1 = line.IndexOf((byte)' ');
        if (sp1 <= 0 || !IsToken(line[..sp1]))
        {
            return "malformed request line";
        }

        ReadOnlySpan<byte> afterMethod = line[(sp1 + 1)..];
        int sp2 = afterMethod.IndexOf((byte)' ');
        if (sp2 <= 0)
        {
            return "malformed request line";
        }

        ReadOnlySpan<byte> target = afterMethod[..sp2];
        if (target[0] != '/' && !(target.Length == 1 && target[0] == '*') && target.IndexOf("://"u8) < 0)
        {
            return "malformed request target";
        }

        if (target.IndexOfAnyInRange((byte)0, (byte)0x20) >= 0 || target.Contains((byte)0x7F))
        {
            return "malformed request target";
        }

        if (!TryParseVersion(afterMethod[(sp2 + 1)..], out int major, out int minor))
        {
            return "malformed HTTP version";
        }

        head.Method = Encoding.ASCII.GetString(line[..sp1]);
        head.Target = Encoding.ASCII.GetString(target);
        head.VersionMajor = major;
        head.VersionMinor = minor;
        return null;
    }

    private static string? ParseStatusLine(ReadOnlySpan<byte> line, HttpHead head)
    {
        // status-line = HTTP-version SP status-code SP [ reason-phrase ] (RFC 9112 §4)
        if (line.Length < 12 || line[8] != ' ' || !TryParseVersion(line[..8], out int major, out int minor))
        {
            return "malformed status line";
        }

        ReadOnlySpan<byte> code = line.Slice(9, 3);
        if (!code.ContainsAnyExceptInRange((byte)'0', (byte)'9') && (line.Length == 12 || line[12] == ' '))
        {
            head.StatusCode = ((code[0] - '0') * 100) + ((code[1] - '0') * 10) + (code[2] - '0');
            head.ReasonPhrase = line.Length > 13 ? Encoding.Latin1.GetString(line[13..]) : string.Empty;
            head.VersionMajor = major;
            head.VersionMinor = minor;
            return null;
        }

        return "malformed status line";
    }

    private static bool TryParseVersion(ReadOnlySpan<byte> version, out int major, out int minor)
    {
        major = minor = 0;
        if (version.Length != 8 || !version.StartsWith("HTTP/"u8) || version[6] != '.' ||
            !char.IsAsciiDigit((char)version[5]) || !char.IsAsciiDigit((char)version[7]))
        {
            return false;
        }

        major = version[5] - '0';
        minor = version[7] - '0';
        return true;
    }

    // token = 1*tchar (RFC 9110 §5.6.2)
    private static bool IsToken(ReadOnlySpan<byte> s)
    {
        foreach (byte b in s)
        {
            bool ok = char.IsAsciiLetterOrDigit((char)b) || "!#$%&'*+-.^_`|~"u8.Contains(b);
            if (!ok)
            {
                return false;
            }
        }

        return !s.IsEmpty;
    }

    private static int CountLines(in ReadOnlySequence<byte> buffer)
    {
        int lines = 0;
        foreach (var segment in buffer)
        {
            lines += segment.Span.Count((byte)'\n');
        }

        return lines;
    }

    private static HttpParseStatus Fail(int status, string reason, out int errorStatus, out string error)
    {
        errorStatus = status;
        error = reason;
        return HttpParseStatus.Invalid;
    }
}
