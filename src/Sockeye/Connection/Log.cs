using Microsoft.Extensions.Logging;

namespace Sockeye;

/// <summary>Source-generated log messages: allocation-free when the level is off.</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "#{Id} failing the connection with {Code}: {Reason}")]
    public static partial void Failing(ILogger logger, long id, ushort code, string reason);

    [LoggerMessage(EventId = 2, Level = LogLevel.Debug, Message = "#{Id} closed: {Code} {Reason}")]
    public static partial void Closed(ILogger logger, long id, ushort? code, string? reason);

    [LoggerMessage(EventId = 3, Level = LogLevel.Information, Message = "#{Id} aborted: {Reason}")]
    public static partial void Aborted(ILogger logger, long id, string reason);

    [LoggerMessage(EventId = 4, Level = LogLevel.Information, Message = "#{Id} the peer did not complete the closing handshake within {Timeout}; closing TCP")]
    public static partial void CloseTimeout(ILogger logger, long id, TimeSpan timeout);

    [LoggerMessage(EventId = 5, Level = LogLevel.Information, Message = "#{Id} TCP connection ended without a close frame")]
    public static partial void AbnormalEnd(ILogger logger, long id);

    [LoggerMessage(EventId = 6, Level = LogLevel.Warning, Message = "#{Id} transport error: {Error}")]
    public static partial void TransportError(ILogger logger, long id, string error);

    [LoggerMessage(EventId = 7, Level = LogLevel.Warning, Message = "#{Id} send buffer stayed full for {Timeout}: peer too slow, closing with 1008")]
    public static partial void SlowConsumer(ILogger logger, long id, TimeSpan timeout);

    [LoggerMessage(EventId = 8, Level = LogLevel.Information, Message = "#{Id} no pong within {Timeout}: closing with 1011")]
    public static partial void KeepaliveTimeout(ILogger logger, long id, TimeSpan timeout);

    [LoggerMessage(EventId = 9, Level = LogLevel.Information, Message = "#{Id} idle for {Timeout}: closing with 1001")]
    public static partial void IdleTimeout(ILogger logger, long id, TimeSpan timeout);

    [LoggerMessage(EventId = 10, Level = LogLevel.Error, Message = "#{Id} internal error in the read loop; connection aborted")]
    public static partial void InternalError(ILogger logger, long id, Exception exception);
}
