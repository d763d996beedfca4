namespace Sockeye.Server;

/// <summary>
/// <see cref="StaticFiles.FromDirectory"/>: regular files under a root, never outside it. The request path and
/// every symbolic link on the way are resolved to a real path that must stay under the root's real path; hidden
/// names are refused in the request and in the resolved path (a visible link to <c>.env</c> is still hidden).
/// </summary>
internal sealed class DirectoryFiles : StaticFiles
{
    private const string Index = "index.html";

    // Each segment costs an lstat on the I/O thread; a 16 KiB head could carry thousands ("/a/../a/../…").
    private const int MaxSegments = 128;
    private readonly string _root;
    private readonly string _rootWithSeparator;
    private readonly bool _serveHidden;

    public DirectoryFiles(string root, bool serveHidden)
    {
        string full = Path.GetFullPath(root);
        if (!Directory.Exists(full))
        {
            throw new DirectoryNotFoundException($"Static directory not found: {root}");
        }

        _root = RealPath.Resolve(Path.GetPathRoot(full)!, RealPath.Split(full[Path.GetPathRoot(full)!.Length..]))
            ?? throw new IOException($"Static directory has a symbolic link loop: {root}");
        _rootWithSeparator = Path.EndsInDirectorySeparator(_root) ? _root : _root + Path.DirectorySeparatorChar;
        _serveHidden = serveHidden;
    }

    public override StaticFile? Open(string path)
    {
        if (path.Contains('\0', StringComparison.Ordinal))
        {
            return null;
        }

        string[] segments = RealPath.Split(path);
        if (segments.Length > MaxSegments)
        {
            return null;
        }

        if (!_serveHidden && segments.Any(IsHidden))
        {
            return null; // also "." and "..": browsers never send them (they resolve dot segments first)
        }

        string? real = Resolve(segments);
        bool directory = real is not null && Directory.Exists(real);
        if (directory)
        {
            real = Resolve([.. segments, Index]); // index.html may be a link too
        }

        if (real is null)
        {
            return null;
        }

        FileStream? content = RegularFile.Open(real);
        if (content is null)
        {
            return null;
        }

        DateTimeOffset modified;
        try
        {
            modified = File.GetLastWriteTimeUtc(content.SafeFileHandle);
        }
        catch (IOException)
        {
            content.Dispose();
            return null;
        }

        return new StaticFile(ContentTypeFor(directory ? Index : path), content, modified);
    }

    /// <summary>The real path of the request, or null when it leaves the root or is hidden there.</summary>
    private string? Resolve(string[] segments)
    {
        string? real;
        try
        {
            real = RealPath.Resolve(_root, segments);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null; // e.g. a name too long, or a directory we may not search
        }

        if (real is null || (real != _root && !real.StartsWith(_rootWithSeparator, StringComparison.Ordinal)))
        {
            return null; // e.g. /../../etc/passwd, or a link to a file or directory outside the root
        }

        if (!_serveHidden && RealPath.Split(real[_root.Length..]).Any(IsHidden))
        {
            return null;
        }

        return real;
    }

    private static bool IsHidden(string segment) => segment.StartsWith('.');
}
