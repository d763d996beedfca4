namespace Sockeye.Server;

/// <summary>Content served to plain HTTP GET requests on the WebSocket port: a directory, or files held in memory.</summary>
public abstract class StaticFiles
{
    /// <summary>
    /// Serves the regular files under <paramref name="root"/>; <c>/</c> and directories serve their index.html.
    /// Symbolic links are followed only while the real path stays under the real root; FIFOs, devices and sockets
    /// are never opened for reading (404). Hidden names (any path segment starting with '.', such as <c>/.env</c> or
    /// <c>/.git/config</c>) are 404 unless <paramref name="serveHidden"/> is set.
    /// </summary>
    public static StaticFiles FromDirectory(string root, bool serveHidden = false) => new DirectoryFiles(root, serveHidden);

    /// <summary>Serves fixed content by path (e.g. <c>/index.html</c>); <c>/</c> serves <c>/index.html</c>.</summary>
    public static StaticFiles FromMemory(IReadOnlyDictionary<string, byte[]> files) => new MemoryFiles(files);

    /// <summary>
    /// Opens the file for a decoded request path, or returns null (404). The caller disposes the result. Called on
    /// the connection's I/O path: implementations must not block (e.g. on a FIFO).
    /// </summary>
    public abstract StaticFile? Open(string path);

    /// <summary>MIME type by file extension.</summary>
    public static string ContentTypeFor(string path) => Path.GetExtension(path).ToUpperInvariant() switch
    {
        ".HTML" or ".HTM" => "text/html; charset=utf-8",
        ".JS" or ".MJS" => "text/javascript; charset=utf-8",
        ".CSS" => "text/css; charset=utf-8",
        ".JSON" => "application/json",
        ".TXT" or ".LOG" => "text/plain; charset=utf-8",
        ".SVG" => "image/svg+xml",
        ".PNG" => "image/png",
        ".JPG" or ".JPEG" => "image/jpeg",
        ".GIF" => "image/gif",
        ".ICO" => "image/x-icon",
        ".WASM" => "application/wasm",
        ".WOFF2" => "font/woff2",
        _ => "application/octet-stream",
    };
}
