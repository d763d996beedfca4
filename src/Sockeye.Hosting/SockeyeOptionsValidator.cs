using System.Globalization;
using System.Net;
using Microsoft.Extensions.Options;

namespace Sockeye.Hosting;

/// <summary>
/// Checks <see cref="SockeyeOptions"/> when the host starts (ValidateOnStart), so a bad setting stops the application
/// with a message naming it before anything listens, instead of failing later or running with a nonsense limit.
/// Hand-written rather than data annotations: no reflection, so the package stays AOT-compatible.
/// </summary>
internal sealed class SockeyeOptionsValidator : IValidateOptions<SockeyeOptions>
{
    public ValidateOptionsResult Validate(string? name, SockeyeOptions options)
    {
        var failures = new List<string>();

        void Fail(string option, object? value, string rule) =>
            failures.Add(string.Create(CultureInfo.InvariantCulture, $"Sockeye option {option} must be {rule} (got {value ?? "null"})."));

        if (options.Host is not ("localhost" or "*" or "+") && !IPAddress.TryParse(options.Host, out _))
        {
            Fail(nameof(options.Host), options.Host, "an IP address, \"localhost\" or \"*\"");
        }

        if (options.Port is < IPEndPoint.MinPort or > IPEndPoint.MaxPort)
        {
            Fail(nameof(options.Port), options.Port, "between 0 and 65535");
        }

        if (options.MaxConnections is <= 0)
        {
            Fail(nameof(options.MaxConnections), options.MaxConnections, "positive");
        }

        if (options.MaxMessageSize <= 0)
        {
            Fail(nameof(options.MaxMessageSize), options.MaxMessageSize, "positive");
        }

        if (options.MaxFrameSize is <= 0)
        {
            Fail(nameof(options.MaxFrameSize), options.MaxFrameSize, "positive");
        }

        if (options.MaxSendBuffer <= 0)
        {
            Fail(nameof(options.MaxSendBuffer), options.MaxSendBuffer, "positive");
        }

        if (options.HandshakeTimeout <= TimeSpan.Zero)
        {
            Fail(nameof(options.HandshakeTimeout), options.HandshakeTimeout, "positive");
        }

        if (options.PingInterval < TimeSpan.Zero)
        {
            Fail(nameof(options.PingInterval), options.PingInterval, "zero or positive");
        }

        if (options.PingTimeout <= TimeSpan.Zero)
        {
            Fail(nameof(options.PingTimeout), options.PingTimeout, "positive");
        }

        if (options.IdleTimeout < TimeSpan.Zero)
        {
            Fail(nameof(options.IdleTimeout), options.IdleTimeout, "zero or positive");
        }

        if (options.SendTimeout <= TimeSpan.Zero)
        {
            Fail(nameof(options.SendTimeout), options.SendTimeout, "positive");
        }

        if (options.CloseTimeout <= TimeSpan.Zero)
        {
            Fail(nameof(options.CloseTimeout), options.CloseTimeout, "positive");
        }

        ValidateCompression(options.Compression, Fail);

        if (options.ShutdownTimeout < TimeSpan.Zero)
        {
            Fail(nameof(options.ShutdownTimeout), options.ShutdownTimeout, "zero or positive");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    // The ranges of PerMessageDeflateOptions.Validate, one message per setting (checked even while compression is
    // off, so turning it on later cannot surprise).
    private static void ValidateCompression(PerMessageDeflateOptions compression, Action<string, object?, string> fail)
    {
        if (compression.ServerMaxWindowBits is < 8 or > 15)
        {
            fail("Compression:ServerMaxWindowBits", compression.ServerMaxWindowBits, "between 8 and 15 (RFC 7692 §7.1.2)");
        }

        if (compression.ClientMaxWindowBits is < 8 or > 15)
        {
            fail("Compression:ClientMaxWindowBits", compression.ClientMaxWindowBits, "between 8 and 15 (RFC 7692 §7.1.2)");
        }

        if (compression.CompressionLevel is < 0 or > 9)
        {
            fail("Compression:CompressionLevel", compression.CompressionLevel, "between 0 and 9");
        }

        if (compression.MemoryLevel is < 1 or > 9)
        {
            fail("Compression:MemoryLevel", compression.MemoryLevel, "between 1 and 9");
        }

        if (compression.Threshold < 0)
        {
            fail("Compression:Threshold", compression.Threshold, "zero or positive");
        }
    }
}
