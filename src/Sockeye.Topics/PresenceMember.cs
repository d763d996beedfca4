namespace Sockeye.Topics;

/// <summary>One subscriber as presence shows it.</summary>
/// <param name="Connection">The connection's id, unique across the nodes sharing a backplane.</param>
/// <param name="Info">Application-defined information as a JSON value (e.g. <c>{"name":"ada"}</c>), or null.</param>
public sealed record PresenceMember(string Connection, string? Info);
