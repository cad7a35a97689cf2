/// A plain-text table that fits a terminal width: columns keep their natural width when they
/// can; otherwise the flexible ones shrink and their cells are cut with `…`.
public struct TextTable {
    public struct Column {
        public let title: String
        public let flexible: Bool
        public let rightAligned: Bool
        public let minimumWidth: Int
        /// Flexible columns with a higher priority give up their width first.
        public let shrinkPriority: Int

        public init(
            _ title: String, flexible: Bool = false, rightAligned: Bool = false, minimumWidth: Int = 6, shrinkPriority: Int = 0
        ) {
            self.title = title
            self.flexible = flexible
            self.rightAligned = rightAligned
            self.minimumWidth = max(minimumWidth, 2)
            self.shrinkPriority = shrinkPriority
        }
    }

    public let columns: [Column]
    public private(set) var rows: [[String]] = []

    public init(_ columns: [Column]) {
        self.columns = columns
    }

    public mutating func append(_ row: [String]) {
        rows.append(row)
    }

    /// Renders the table in at most `width` columns (100 by default, as the CLI promises).
    public func render(width: Int = 100) -> String {
        let gap = 2
        let shown = rows.map { $0.map(Self.displayed) }
        var widths = columns.indices.map { index in
            max(Self.width(columns[index].title), shown.map { Self.width($0[index]) }.max() ?? 0)
        }
        var total = widths.reduce(0, +) + gap * (columns.count - 1)
        // Shrink the widest flexible column of the highest priority, one step at a time, until it fits.
        while total > width {
            let candidates = columns.indices.filter { columns[$0].flexible && widths[$0] > columns[$0].minimumWidth }
            guard let priority = candidates.map({ columns[$0].shrinkPriority }).max(),
                let index = candidates.filter({ columns[$0].shrinkPriority == priority }).max(by: { widths[$0] < widths[$1] })
            else { break }
            widths[index] -= 1
            total -= 1
        }
        var lines: [String] = []
        func line(_ cells: [String]) -> String {
            var text = ""
            for (index, cell) in cells.enumerated() {
                let fitted = Self.fit(cell, widths[index])
                let padding = String(repeating: " ", count: widths[index] - Self.width(fitted))
                let isLast = index == cells.count - 1
                if columns[index].rightAligned {
                    text += padding + fitted
                } else {
                    text += fitted + (isLast ? "" : padding)
                }
                if !isLast { text += String(repeating: " ", count: gap) }
            }
            return text
        }
        lines.append(line(columns.map(\.title)))
        for row in shown { lines.append(line(row)) }
        return lines.joined(separator: "\n") + "\n"
    }

    static func width(_ text: String) -> Int { text.count }

    /// A cell as the table shows it: on one line, with terminal controls escaped.
    static func displayed(_ text: String) -> String {
        let flattened = text.contains("\n") ? text.split(separator: "\n", omittingEmptySubsequences: false).joined(separator: " ") : text
        return TerminalText.escaped(flattened)
    }

    static func fit(_ flattened: String, _ width: Int) -> String {
        guard flattened.count > width else { return flattened }
        guard width > 1 else { return String(flattened.prefix(width)) }
        return String(flattened.prefix(width - 1)) + "…"
    }
}

extension String {
    func replacingFirst(_ target: Character, with replacement: String) -> String {
        guard let found = firstIndex(of: target) else { return self }
        return String(self[..<found]) + replacement + String(self[index(after: found)...])
    }
}

/// Short forms for tables: commits and digests are recognisable by their first characters.
public enum Abbreviate {
    public static func commit(_ sha: String?) -> String {
        guard let sha else { return "-" }
        return String(sha.prefix(7))
    }

    /// An IAM principal's last part (`…:assumed-role/deploy/GitHubActions` → `deploy/GitHubActions`).
    public static func actor(_ actor: String?) -> String {
        guard let actor else { return "-" }
        if actor.hasPrefix("arn:"), let slash = actor.firstIndex(of: "/") {
            return String(actor[actor.index(after: slash)...])
        }
        return actor
    }

    /// The first 12 hex digits of a digest, as `docker images` shows an image id.
    public static func digest(_ digest: String?) -> String {
        guard let digest else { return "-" }
        if let colon = digest.firstIndex(of: ":") { return String(digest[digest.index(after: colon)...].prefix(12)) }
        return String(digest.prefix(12))
    }

    /// An image reference without its registry host (`…amazonaws.com/ml-pipe/p1:latest` → `ml-pipe/p1:latest`).
    public static func image(_ image: String?) -> String {
        guard let image else { return "-" }
        guard let reference = ImageReference(image) else { return image }
        var short = reference
        short.registry = nil
        short.digest = nil
        return short.description
    }

    /// A time to the minute, for tables: `2026-03-05 02:09`.
    public static func minute(_ time: Timestamp?) -> String {
        guard let time else { return "-" }
        let text = time.rfc3339
        return String(text.prefix(16)).replacingFirst("T", with: " ")
    }
}
