namespace Sockeye.Redis;

/// <summary>
/// The Lua scripts: each runs atomically in Redis, so a position, its history entry and its pub/sub message can never
/// disagree. StackExchange.Redis sends them by SHA and reloads them after a Redis restart.
/// </summary>
internal static class RedisScripts
{
    // Shared prologue: the topic's epoch, created with ARGV[1] (a fresh random value) when missing. A missing epoch
    // means the stream's continuity is gone (never existed, expired, deleted, Redis lost its data): the old stream is
    // dropped so offsets can restart at 1 under the new epoch.
    private const string EnsureEpoch = """
        local epoch = redis.call('HGET', KEYS[1], 'epoch')
        local seq
        if not epoch then
          epoch = ARGV[1]
          redis.call('DEL', KEYS[2])
          redis.call('HSET', KEYS[1], 'epoch', epoch, 'seq', 0)
          seq = 0
        else
          seq = tonumber(redis.call('HGET', KEYS[1], 'seq'))
        end
        local t = redis.call('TIME')
        local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)

        """;

    /// <summary>
    /// KEYS: meta, stream. ARGV: new epoch, expiry ms, channel, type (t|b), payload, max length (0 = none), max age ms
    /// (0 = none). Assigns the next offset, appends it to the stream (trimmed by length and age) and publishes
    /// <c>m&lt;offset&gt; &lt;type&gt; &lt;epoch&gt;\n&lt;payload&gt;</c>. Returns {epoch, offset}.
    /// </summary>
    public const string Publish = EnsureEpoch + """
        seq = redis.call('HINCRBY', KEYS[1], 'seq', 1)
        local maxlen = tonumber(ARGV[6])
        local age = tonumber(ARGV[7])
        if maxlen > 0 or age > 0 then
          if maxlen > 0 then
            redis.call('XADD', KEYS[2], 'MAXLEN', '~', maxlen, seq .. '-0', 'y', ARGV[4], 't', now, 'd', ARGV[5])
          else
            redis.call('XADD', KEYS[2], seq .. '-0', 'y', ARGV[4], 't', now, 'd', ARGV[5])
          end
          if age > 0 then
            -- Offsets grow with time, so the expired entries are a prefix: cut before the first young one.
            local head = redis.call('XRANGE', KEYS[2], '-', '+', 'COUNT', 100)
            local cut = nil
            for _, e in ipairs(head) do
              if tonumber(e[2][4]) >= now - age then cut = e[1] break end
            end
            if not cut and #head > 0 then
              cut = (tonumber(string.match(head[#head][1], '^(%d+)')) + 1) .. '-0'
            end
            if cut then redis.call('XTRIM', KEYS[2], 'MINID', cut) end
          end
          redis.call('PEXPIRE', KEYS[2], ARGV[2])
        end
        redis.call('PEXPIRE', KEYS[1], ARGV[2])
        redis.call('PUBLISH', ARGV[3], 'm' .. seq .. ' ' .. ARGV[4] .. ' ' .. epoch .. '\n' .. ARGV[5])
        return {epoch, seq}
        """;

    /// <summary>
    /// KEYS: meta, stream. ARGV: new epoch, expiry ms, known epoch, from offset (0 = no entries), count, restart (1:
    /// when the epoch is not the known one, read from offset 1 instead; 0: read nothing). The stream's position and up
    /// to count entries. Returns {epoch, seq, now ms, entries}.
    /// </summary>
    public const string Read = EnsureEpoch + """
        redis.call('PEXPIRE', KEYS[1], ARGV[2])
        local from = tonumber(ARGV[4])
        if from > 0 and epoch ~= ARGV[3] then
          if ARGV[6] == '1' then from = 1 else from = 0 end
        end
        local entries = {}
        if from > 0 and from <= seq then
          entries = redis.call('XRANGE', KEYS[2], from .. '-0', seq .. '-0', 'COUNT', ARGV[5])
        end
        return {epoch, seq, now, entries}
        """;

    /// <summary>
    /// KEYS: presence. ARGV: channel, connection, node, info (- or +json), expiry ms. Adds the member; announces
    /// <c>j&lt;connection&gt;\n&lt;info&gt;</c> when it is new.
    /// </summary>
    public const string Join = """
        local added = redis.call('HSET', KEYS[1], ARGV[2], ARGV[3] .. '\n' .. ARGV[4])
        redis.call('PEXPIRE', KEYS[1], ARGV[5])
        if added == 1 then redis.call('PUBLISH', ARGV[1], 'j' .. ARGV[2] .. '\n' .. ARGV[4]) end
        return added
        """;

    /// <summary>KEYS: presence. ARGV: channel, connection, info. Removes the member; announces <c>l…</c> when it was there.</summary>
    public const string Leave = """
        local removed = redis.call('HDEL', KEYS[1], ARGV[2])
        if removed == 1 then redis.call('PUBLISH', ARGV[1], 'l' .. ARGV[2] .. '\n' .. ARGV[3]) end
        return removed
        """;

    /// <summary>
    /// KEYS: presence, nodes. ARGV: channel. Removes (and announces the leave of) the members whose node's liveness
    /// expired; returns the rest as {connection, value, …}. Atomic, so several nodes sweeping announce each leave once.
    /// </summary>
    public const string Sweep = """
        local t = redis.call('TIME')
        local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
        local all = redis.call('HGETALL', KEYS[1])
        local alive = {}
        local nodes = {}
        for i = 1, #all, 2 do
          local v = all[i + 1]
          local nl = string.find(v, '\n', 1, true)
          local node = string.sub(v, 1, nl - 1)
          local live = nodes[node]
          if live == nil then
            local expiry = redis.call('ZSCORE', KEYS[2], node)
            live = expiry ~= false and tonumber(expiry) >= now
            nodes[node] = live
          end
          if live then
            alive[#alive + 1] = all[i]
            alive[#alive + 1] = v
          else
            redis.call('HDEL', KEYS[1], all[i])
            redis.call('PUBLISH', ARGV[1], 'l' .. all[i] .. '\n' .. string.sub(v, nl + 1))
          end
        end
        return alive
        """;

    /// <summary>
    /// KEYS: nodes. ARGV: node, timeout ms. Extends this node's liveness; returns 1 when it had expired or was
    /// missing (others may have swept its members: they must be added again), else 0. Forgets nodes dead for an hour.
    /// </summary>
    public const string Heartbeat = """
        local t = redis.call('TIME')
        local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
        local previous = redis.call('ZSCORE', KEYS[1], ARGV[1])
        redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
        redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - 3600000)
        if previous == false or tonumber(previous) < now then return 1 end
        return 0
        """;
}
