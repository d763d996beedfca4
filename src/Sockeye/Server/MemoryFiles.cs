namespace Sockeye.Server;

/// <summary><see cref="StaticFiles.FromMemory"/>: fixed content by exact path.</summary>
internal sealed class MemoryFiles(IReadOnlyDictionary<string, byte[]> files) : StaticFiles
{
    public override StaticFile? Open(string path)
    {
        if (path.EndsWith('/'))
        {
            path += "index.html";
        }

        return files.TryGetValue(path, out byte[]? content)
            ? new StaticFile(ContentTypeFor(path), new MemoryStream(content, writable: false))
            : null;
    }
}
