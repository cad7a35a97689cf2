/// Times as users type them on the command line: RFC 3339 (`2026-11-27T14:05:00Z`), a date
/// (`2026-11-27`, midnight UTC), or a span back from now (`7d`, `12h`, `30m`, `2w`, `90s`).
public enum TimeExpression {
    public static func parse(_ text: String, now: Timestamp = System.now()) -> Timestamp? {
        if let time = Timestamp(iso8601: text) { return time }
        guard let unit = text.last, text.count >= 2, let amount = Int64(text.dropLast()), amount >= 0 else { return nil }
        let seconds: Int64
        switch unit {
        case "s": seconds = amount
        case "m": seconds = amount * 60
        case "h": seconds = amount * 3600
        case "d": seconds = amount * 86_400
        case "w": seconds = amount * 7 * 86_400
        default: return nil
        }
        return Timestamp(microseconds: now.microseconds - seconds * 1_000_000)
    }

    public static let help = "RFC 3339 (2026-11-27T14:05:00Z), a date (2026-11-27), or a span back from now (7d, 12h, 30m)"
}

/// Where the store lives: `--db`, else `$SHIPLOG_DB`, else `$XDG_DATA_HOME/shiplog/shiplog.db`,
/// else `~/.local/share/shiplog/shiplog.db`.
public enum StoreLocation {
    public static func resolve(_ explicit: String?) -> String {
        if let explicit, !explicit.isEmpty { return explicit }
        if let fromEnvironment = System.environment("SHIPLOG_DB"), !fromEnvironment.isEmpty { return fromEnvironment }
        if let data = System.environment("XDG_DATA_HOME"), !data.isEmpty { return data + "/shiplog/shiplog.db" }
        let home = System.environment("HOME") ?? "."
        return home + "/.local/share/shiplog/shiplog.db"
    }
}
