using System.Buffers;
using System.Globalization;
using System.IO.Pipelines;
using System.Text;
using Microsoft.Extensions.Logging;
using Sockeye.Protocol;
using Sockeye.Transport;

namespace Sockeye.Server;

public sealed partial class WebSocketServer
{
    // File bodies are read straight into pooled pipe memory, this much at a time: never the whole file.
    private const int FileChunkSize = 64 * 1024;

    /// <summary>
    /// Answers a plain HTTP request from <see cref="WebSocketServerOptions.StaticFiles"/>. Returns whether to keep
    /// the connection. Every flush is bounded by <see cref="WebSocketOptions.SendTimeout"/>.
    /// </summary>
    private async Task<bool> ServeStaticAsync(IWebSocketTransport transport, HttpHead head, string remote)
    {
        // RFC 9110 §15.6.6: this port speaks HTTP/1.x only (an HTTP/2 preface parses as "PRI * HTTP/2.0").
        if (head.VersionMajor != 1)
        {
            await RefuseAsync(transport, 505, "only HTTP/1.1 is served on this port", remote, head.Target).ConfigureAwait(false);
            return false;
        }

        bool isHead = head.Method == "HEAD";
        if (head.Method != "GET" && !isHead)
        {
            await RefuseAsync(transport, 405, "only GET and HEAD are served", remote, head.Target).ConfigureAwait(false);
            return false;
        }

        // A GET with a body is not something we read; refuse rather than misparse the body as the next request.
        string? contentLength = head.Get("Content-Length");
        if (head.Count("Transfer-Encoding") > 0 || (contentLength is not null && contentLength.Trim() != "0"))
        {
            await RefuseAsync(transport, 400, "request body not allowed", remote, head.Target).ConfigureAwait(false);
            return false;
        }

        // RFC 9112 §3.2: 400 for an HTTP/1.1 request without Host, any request with several, or an invalid value.
        int hosts = head.Count("Host");
        if (hosts > 1 || (hosts == 0 && head.IsHttp11OrLater) || (hosts == 1 && !HostHeader.TryParse(head.Get("Host")!, out _)))
        {
            await RefuseAsync(transport, 400, "missing, repeated or invalid Host header", remote, head.Target).ConfigureAwait(false);
            return false;
        }

        if (CheckHost(head) is { } hostProblem)
        {
            await RefuseAsync(transport, 421, hostProblem, remote, head.Target).ConfigureAwait(false);
            return false;
        }

        var request = new WebSocketRequest(head, null, null);
        bool keepAlive = head.IsHttp11OrLater ? !head.HasToken("Connection", "close") : head.HasToken("Connection", "keep-alive");
        using var deadline = new SendDeadline(Options.WebSocket.SendTimeout);
        StaticFile? file = Options.StaticFiles?.Open(request.Path);
        bool sent;
        if (file is null)
        {
            string body = Options.StaticFiles is null ? "This is a WebSocket server.\n" : "Not found.\n";
            _logger.LogDebug("{Remote} {Method} {Path} 404", remote, head.Method, LogText.Escape(request.Path));
            var response = new StringBuilder(256);
            AppendHead(response, 404, keepAlive).Append("Content-Type: text/plain; charset=utf-8\r\nContent-Length: ")
                .Append(Encoding.UTF8.GetByteCount(body)).Append("\r\n\r\n");
            if (!isHead)
            {
                response.Append(body);
            }

            transport.Output.Write(Encoding.UTF8.GetBytes(response.ToString()));
            sent = await deadline.FlushAsync(transport.Output).ConfigureAwait(false);
        }
        else
        {
            using (file)
            {
                sent = await SendFileAsync(transport, head, file, request.Path, isHead, keepAlive, deadline, remote).ConfigureAwait(false);
            }
        }

        if (deadline.TimedOut)
        {
            _logger.LogInformation("{Remote} static response {Path} stalled: the client read nothing for {Timeout} (send timeout); closing",
                remote, LogText.Escape(request.Path), Options.WebSocket.SendTimeout);
            transport.Abort();
        }

        return sent && keepAlive;
    }

    /// <summary>One file, whole or one range, with its validators (RFC 9110 §8.8, §13, §14). False when the connection must end.</summary>
    private async Task<bool> SendFileAsync(IWebSocketTransport transport, HttpHead head, StaticFile file, string path, bool isHead, bool keepAlive,
        SendDeadline deadline, string remote)
    {
        // Validators: Last-Modified to the second (HTTP-date), and an ETag from the exact time and the length.
        DateTimeOffset? modified = file.LastModified?.ToUniversalTime();
        DateTimeOffset? modifiedSeconds = modified is { } m ? m.AddTicks(-(m.UtcTicks % TimeSpan.TicksPerSecond)) : null;
        string? etag = modified is { } exact ? $"\"{exact.UtcTicks:x}-{file.Length:x}\"" : null;

        var response = new StringBuilder(384);
        if (StaticValidators.IsNotModified(head, etag, modifiedSeconds))
        {
            AppendHead(response, 304, keepAlive);
            AppendValidators(response, etag, modifiedSeconds).Append("\r\n");
            transport.Output.Write(Encoding.ASCII.GetBytes(response.ToString()));
            _logger.LogDebug("{Remote} {Method} {Path} 304", remote, head.Method, LogText.Escape(path));
            return await deadline.FlushAsync(transport.Output).ConfigureAwait(false);
        }

        long start = 0;
        long count = file.Length;
        RangeKind range = head.Count("Range") == 1 && StaticValidators.IfRangeHolds(head, etag, modifiedSeconds)
            ? ByteRange.Parse(head.Get("Range"), file.Length, out start, out count)
            : RangeKind.Whole;
        if (range == RangeKind.Unsatisfiable)
        {
            // RFC 9110 §15.5.17: 416 names the current length.
            const string Body = "Range not satisfiable.\n";
            AppendHead(response, 416, keepAlive).Append("Content-Range: bytes */").Append(file.Length)
                .Append("\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ").Append(Body.Length).Append("\r\n\r\n");
            if (!isHead)
            {
                response.Append(Body);
            }

            transport.Output.Write(Encoding.ASCII.GetBytes(response.ToString()));
            return await deadline.FlushAsync(transport.Output).ConfigureAwait(false);
        }

        int status = range == RangeKind.Partial ? 206 : 200;
        AppendHead(response, status, keepAlive).Append("Content-Type: ").Append(file.ContentType)
            .Append("\r\nContent-Length: ").Append(count).Append("\r\nAccept-Ranges: bytes\r\n");
        if (range == RangeKind.Partial)
        {
            response.Append("Content-Range: bytes ").Append(start).Append('-').Append(start + count - 1).Append('/').Append(file.Length).Append("\r\n");
        }

        AppendValidators(response, etag, modifiedSeconds).Append("\r\n");
        transport.Output.Write(Encoding.ASCII.GetBytes(response.ToString()));
        _logger.LogDebug("{Remote} {Method} {Path} {Status} ({Count} bytes)", remote, head.Method, LogText.Escape(path),
            status, count);
        if (isHead || count == 0)
        {
            return await deadline.FlushAsync(transport.Output).ConfigureAwait(false);
        }

        return await SendBodyAsync(transport.Output, file.Content, start, count, path, deadline).ConfigureAwait(false);
    }

    /// <summary>Streams <paramref name="count"/> bytes from <paramref name="start"/> in pooled chunks, each flush under the deadline.</summary>
    private async Task<bool> SendBodyAsync(PipeWriter output, Stream content, long start, long count, string path, SendDeadline deadline)
    {
        content.Seek(start, SeekOrigin.Begin);
        for (long left = count; left > 0;)
        {
            Memory<byte> memory = output.GetMemory(FileChunkSize);
            int read = await content.ReadAsync(memory[..(int)Math.Min(memory.Length, left)]).ConfigureAwait(false);
            if (read == 0)
            {
                // The file shrank after its length was sent: the response cannot be completed, so the connection
                // must end (keeping it would put the next response out of step).
                _logger.LogInformation("static file {Path} ended {Left} bytes early (changed while being sent); closing", LogText.Escape(path), left);
                return false;
            }

            output.Advance(read);
            left -= read;
            if (!await deadline.FlushAsync(output).ConfigureAwait(false))
            {
                return false;
            }
        }

        return true;
    }

    private static StringBuilder AppendHead(StringBuilder response, int status, bool keepAlive) =>
        response.Append("HTTP/1.1 ").Append(status).Append(' ').Append(ReasonPhrases.For(status))
            .Append("\r\nCache-Control: no-cache\r\nX-Content-Type-Options: nosniff\r\n").Append(keepAlive ? string.Empty : "Connection: close\r\n");

    private static StringBuilder AppendValidators(StringBuilder response, string? etag, DateTimeOffset? modified)
    {
        if (etag is not null)
        {
            response.Append("ETag: ").Append(etag).Append("\r\n");
        }

        if (modified is { } time)
        {
            response.Append("Last-Modified: ").Append(time.ToString("r", CultureInfo.InvariantCulture)).Append("\r\n");
        }

        return response;
    }
}
