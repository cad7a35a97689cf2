/// A plain-text table that fits a terminal width: columns keep their natural width when they
/// can; otherwise the flexible ones shrink and their cells are cut with `…`.
public struct TextTable {
    public struct Column {
        public let title: String
        public let flexible: Bool
        public let rightAligned: Bool
        public let minimumWidth: Int

        public init(_ title: String, flexible: Bool = false, rightAligned: Bool = false, minimumWidth: Int = 6) {
            self.title = title
            self.flexible = flexible
            self.rightAligned = rightAligned
            self.minimumWidth = minimumWidth
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
        var widths = columns.indices.map { index in
            max(Self.width(columns[index].title), rows.map { Self.width($0[index]) }.max() ?? 0)
        }
        var total = widths.reduce(0, +) + gap * (columns.count - 1)
        // Shrink the widest flexible column one step at a time until the table fits.
        while total > width {
            guard let index = columns.indices.filter({ columns[$0].flexible && widths[$0] > columns[$0].minimumWidth })
                .max(by: { widths[$0] < widths[$1] })
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
        for row in rows { lines.append(line(row)) }
        return lines.joined(separator: "\n") + "\n"
    }

    static func width(_ text: String) -> Int { text.count }

    static func fit(_ text: String, _ width: Int) -> String {
        let flattened = text.contains("\n") ? text.split(separator: "\n", omittingEmptySubsequences: false).joined(separator: " ") : text
        guard flattened.count > width else { return flattened }
        guard width > 1 else { return String(flattened.prefix(width)) }
        return String(flattened.prefix(width - 1)) + "…"
    }
}

/// Short forms for tables: commits and digests are recognisable by their first characters.
public enum Abbreviate {
    public static func commit(_ sha: String?) -> String {
        guard let sha else { return "-" }
        return String(sha.prefix(7))
    }

    public static func digest(_ digest: String?) -> String {
        guard let digest else { return "-" }
        if let colon = digest.firstIndex(of: ":") {
            return String(digest[...colon]) + String(digest[digest.index(after: colon)...].prefix(12))
        }
        return String(digest.prefix(19))
    }
}
