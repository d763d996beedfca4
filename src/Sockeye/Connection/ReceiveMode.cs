namespace Sockeye;

/// <summary>How the read loop should deliver the next data message (decided by the application's receive call).</summary>
internal enum ReceiveMode
{
    /// <summary>Assemble the whole message (subject to the message size limit).</summary>
    Whole,
    /// <summary>Deliver parts as they arrive (no message size limit; frame limit still applies).</summary>
    Stream,
    /// <summary>The application stopped receiving (it is closing): drop data messages.</summary>
    Discard,
}
