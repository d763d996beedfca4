namespace Sockeye;

/// <summary>Which side of the connection this endpoint is; decides the masking rules (RFC 6455 §5.1).</summary>
public enum Role
{
    /// <summary>Server: receives masked frames, sends unmasked ones.</summary>
    Server,
    /// <summary>Client: sends masked frames, receives unmasked ones.</summary>
    Client,
}
