namespace Sockeye.Server;

/// <summary>A static file found by <see cref="StaticFiles"/>.</summary>
/// <param name="ContentType">MIME type.</param>
/// <param name="Length">Size in bytes.</param>
/// <param name="Open">Opens the content for reading.</param>
public sealed record StaticFile(string ContentType, long Length, Func<Stream> Open);

/// <summary>Content served to plain HTTP GET requests on the WebSocket port: a directory, or files held in memory.</summary>
public abstract class StaticFiles
{
    /// <summary>Serves the files under <paramref name="root"/>; <c>/</c> and directories serve their index.html.</summary>
    public static StaticFiles FromDirectory(string root) => new DirectoryFiles(root);

    /// <summary>Serves fixed content by path (e.g. <c>/index.html</c>); <c>/</c> serves <c>/index.html</c>.</summary>
    public static StaticFiles FromMemory(IReadOnlyDictionary<string, byte[]> files) => new MemoryFiles(files);

    /// <summary>Finds the file for a decoded request path, or null.</summary>
    public abstract StaticFile? Find(string path);

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

    private sealed class DirectoryFiles : StaticFiles
    {
        private readonly string _root;

        public DirectoryFiles(string root)
        {
            _root = Path.GetFullPath(root);
            if (!Directory.Exists(_root))
            {
                throw new DirectoryNotFoundException($"Static directory not found: {root}");
            }
        }

        public override StaticFile? Find(string path)
        {
            if (path.Contains('\0', StringComparison.Ordinal))
            {
                return null;
            }

            string full = Path.GetFullPath(Path.Join(_root, path));
            // Refuse anything that resolves outside the root (e.g. /../../etc/passwd).
            string rootWithSlash = _root.EndsWith(Path.DirectorySeparatorChar) ? _root : _root + Path.DirectorySeparatorChar;
            if (full != _root && !full.StartsWith(rootWithSlash, StringComparison.Ordinal))
            {
                return null;
            }

            if (Directory.Exists(full))
            {
                full = Path.Join(full, "index.html");
            }

            var info = new FileInfo(full);
            if (!info.Exists)
            {
                return null;
            }

            return new StaticFile(ContentTypeFor(full), info.Length, () => new FileStream(full, FileMode.Open, FileAccess.Read, FileShare.Read, 1, useAsync: true));
        }
    }

    private sealed class MemoryFiles(IReadOnlyDictionary<string, byte[]> files) : StaticFiles
    {
        public override StaticFile? Find(string path)
        {
            if (path.EndsWith('/'))
            {
                path += "index.html";
            }

            return files.TryGetValue(path, out byte[]? content)
                ? new StaticFile(ContentTypeFor(path), content.Length, () => new MemoryStream(content, writable: false))
                : null;
        }
    }
}
