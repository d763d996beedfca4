using System.CommandLine;
using Sockeye.Extensions;
using Sockeye.Protocol;

namespace Sockeye.Cli;

/// <summary>permessage-deflate flags of <c>sockeye serve</c> (on by default) and <c>sockeye connect</c> (offered on request).</summary>
internal sealed class DeflateCliOptions
{
    private readonly Option<bool> _off = new("--no-deflate") { Description = "Do not negotiate permessage-deflate (RFC 7692); by default serve accepts browsers' offers." };
    private readonly Option<bool> _on = new("--deflate") { Description = "Offer permessage-deflate (RFC 7692): 'permessage-deflate; client_max_window_bits'." };
    private readonly Option<string?> _offer = new("--deflate-offer") { Description = "Offer 'permessage-deflate; PARAMS' with these parameters (implies --deflate), e.g. \"client_no_context_takeover; server_max_window_bits=10\"." };
    private readonly Option<int> _threshold = new Option<int>("--deflate-threshold") { Description = "Send messages smaller than this many bytes uncompressed.", DefaultValueFactory = _ => 32 }.Whole(0, int.MaxValue, "a size in bytes (0 or more)");
    private readonly Option<int> _windowBits = new Option<int>("--deflate-window-bits") { Description = "Largest LZ77 window (8-15 bits) the server compresses with (server_max_window_bits).", DefaultValueFactory = _ => 15 }.Whole(8, 15, "a window size in bits (8-15)");
    private readonly Option<int> _clientWindowBits = new Option<int>("--deflate-client-window-bits") { Description = "Window (8-15 bits) asked of clients that offer client_max_window_bits.", DefaultValueFactory = _ => 15 }.Whole(8, 15, "a window size in bits (8-15)");
    private readonly Option<bool> _noContext = new("--deflate-no-context-takeover") { Description = "Reset the server's compressor after every message (server_no_context_takeover): less memory, less compression." };
    private readonly Option<int> _level = new Option<int>("--deflate-level") { Description = "zlib compression level, 1 (fastest) to 9 (smallest); 0 stores uncompressed.", DefaultValueFactory = _ => new PerMessageDeflateOptions().CompressionLevel }.Whole(0, 9, "a zlib level (0-9)");
    private readonly Option<int> _memLevel = new Option<int>("--deflate-mem-level") { Description = "zlib memLevel 1-9 (compressor hash memory 2^(n+9) bytes).", DefaultValueFactory = _ => new PerMessageDeflateOptions().MemoryLevel }.Whole(1, 9, "a zlib memLevel (1-9)");

    public void AddToServe(Command command)
    {
        foreach (Option option in (Option[])[_off, _threshold, _windowBits, _clientWindowBits, _noContext, _level, _memLevel])
        {
            command.Options.Add(option);
        }

        _threshold.HelpName = "BYTES";
        _windowBits.HelpName = _clientWindowBits.HelpName = "BITS";
        _level.HelpName = _memLevel.HelpName = "N";
    }

    public void AddToConnect(Command command)
    {
        foreach (Option option in (Option[])[_on, _offer, _threshold, _level, _memLevel])
        {
            command.Options.Add(option);
        }

        _offer.HelpName = "PARAMS";
        _threshold.HelpName = "BYTES";
        _level.HelpName = _memLevel.HelpName = "N";
    }

    /// <summary>Server settings, or null with --no-deflate; error is set when a value is out of range.</summary>
    public PerMessageDeflateOptions? ForServe(ParseResult parse, out string? error)
    {
        error = null;
        if (parse.GetValue(_off))
        {
            return null;
        }

        var options = Common(parse);
        options.ServerMaxWindowBits = parse.GetValue(_windowBits);
        options.ClientMaxWindowBits = parse.GetValue(_clientWindowBits);
        options.ServerNoContextTakeover = parse.GetValue(_noContext);
        return Checked(options, out error);
    }

    /// <summary>Client settings, or null when deflate was not asked for.</summary>
    public PerMessageDeflateOptions? ForConnect(ParseResult parse, out string? error)
    {
        error = null;
        string? offer = parse.GetValue(_offer);
        if (!parse.GetValue(_on) && offer is null)
        {
            return null;
        }

        PerMessageDeflateOptions options = Common(parse);
        if (offer is not null)
        {
            // Parsed with the same grammar and rules a server applies (RFC 7692 §7.1), so only valid offers go out.
            List<ExtensionOffer> parsed = ExtensionHeader.Parse([PerMessageDeflateNegotiation.Name + (offer.Trim().Length > 0 ? "; " + offer : "")]);
            var all = new PerMessageDeflateOptions { ServerMaxWindowBits = 8, ClientMaxWindowBits = 8 };
            if (parsed.Count != 1 || PerMessageDeflateNegotiation.Accept(parsed, all) is null)
            {
                error = $"--deflate-offer: not a valid permessage-deflate offer: {offer}";
                return null;
            }

            // Exactly what was given: client_max_window_bits only when it is among the parameters.
            options.OfferClientMaxWindowBits = false;
            foreach (var (key, value) in parsed[0].Parameters)
            {
                switch (key.ToLowerInvariant())
                {
                    case "server_no_context_takeover":
                        options.ServerNoContextTakeover = true;
                        break;
                    case "client_no_context_takeover":
                        options.ClientNoContextTakeover = true;
                        break;
                    case "server_max_window_bits":
                        options.ServerMaxWindowBits = int.Parse(value!, System.Globalization.CultureInfo.InvariantCulture);
                        break;
                    case "client_max_window_bits":
                        options.OfferClientMaxWindowBits = true;
                        if (value is not null)
                        {
                            options.ClientMaxWindowBits = int.Parse(value, System.Globalization.CultureInfo.InvariantCulture);
                        }

                        break;
                }
            }
        }

        return Checked(options, out error);
    }

    private PerMessageDeflateOptions Common(ParseResult parse) => new()
    {
        Threshold = parse.GetValue(_threshold),
        CompressionLevel = parse.GetValue(_level),
        MemoryLevel = parse.GetValue(_memLevel),
    };

    private static PerMessageDeflateOptions? Checked(PerMessageDeflateOptions options, out string? error)
    {
        try
        {
            options.Validate();
            error = null;
            return options;
        }
        catch (ArgumentOutOfRangeException ex)
        {
            error = "deflate: " + ex.Message;
            return null;
        }
    }
}
