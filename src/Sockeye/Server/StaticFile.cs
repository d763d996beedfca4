namespace Sockeye.Server;

/// <summary>
/// A file opened by <see cref="StaticFiles.Open"/>: its type, content and validators. The server sends it and then
/// disposes it, which releases the content.
/// </summary>
public sealed class StaticFile : IDisposable
{
    /// <summary>Wraps <paramref name="content"/>, which must be readable and seekable (ranges seek into it).</summary>
    /// <param name="contentType">MIME type.</param>
    /// <param name="content">The bytes; its length is read once, here, so the response always matches its own header.</param>
    /// <param name="lastModified">When the content last changed, for <c>Last-Modified</c> and <c>ETag</c>; null for none.</param>
    public StaticFile(string contentType, Stream content, DateTimeOffset? lastModified = null)
    {
        ArgumentNullException.ThrowIfNull(contentType);
        ArgumentNullException.ThrowIfNull(content);
        if (!content.CanRead || !content.CanSeek)
        {
            throw new ArgumentException("Static content must be readable and seekable.", nameof(content));
        }

        ContentType = contentType;
        Content = content;
        Length = content.Length;
        LastModified = lastModified;
    }

    /// <summary>MIME type.</summary>
    public string ContentType { get; }

    /// <summary>The content, positioned anywhere (the server seeks).</summary>
    public Stream Content { get; }

    /// <summary>Size in bytes, taken from <see cref="Content"/> when it was opened.</summary>
    public long Length { get; }

    /// <summary>When the content last changed, or null.</summary>
    public DateTimeOffset? LastModified { get; }

    /// <summary>Releases the content (for a directory file: its handle).</summary>
    public void Dispose() => Content.Dispose();
}
