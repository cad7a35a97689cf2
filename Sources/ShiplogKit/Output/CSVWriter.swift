/// Writes RFC 4180 CSV that is safe to open in a spreadsheet.
///
/// Fields are quoted when they hold a comma, quote, CR or LF; quotes are doubled; lines end
/// with CRLF as the RFC says. A cell that a spreadsheet would run as a formula (it starts with
/// `=`, `+`, `-`, `@`, a tab or a CR) is prefixed with `'`, as OWASP recommends, so an event
/// field like `=HYPERLINK(…)` is shown, not executed.
public struct CSVWriter {
    public private(set) var bytes: [UInt8] = []

    public init() {}

    public mutating func writeRow(_ fields: [String]) {
        for (index, field) in fields.enumerated() {
            if index > 0 { bytes.append(UInt8(ascii: ",")) }
            Self.appendField(field, to: &bytes)
        }
        bytes.append(0x0D)
        bytes.append(0x0A)
    }

    public mutating func take() -> [UInt8] {
        defer { bytes.removeAll(keepingCapacity: true) }
        return bytes
    }

    /// Whether a spreadsheet would treat the cell as a formula.
    public static func isFormulaLike(_ field: String) -> Bool {
        guard let first = field.utf8.first else { return false }
        return first == UInt8(ascii: "=") || first == UInt8(ascii: "+") || first == UInt8(ascii: "-")
            || first == UInt8(ascii: "@") || first == 0x09 || first == 0x0D
    }

    static func appendField(_ field: String, to bytes: inout [UInt8]) {
        // A negative number is data, not a formula; leave it as it is.
        let neutralise = isFormulaLike(field) && !isPlainNumber(field)
        let needsQuotes = neutralise || field.utf8.contains {
            $0 == UInt8(ascii: ",") || $0 == UInt8(ascii: "\"") || $0 == 0x0A || $0 == 0x0D
        }
        if needsQuotes { bytes.append(UInt8(ascii: "\"")) }
        if neutralise { bytes.append(UInt8(ascii: "'")) }
        for byte in field.utf8 {
            if byte == UInt8(ascii: "\"") { bytes.append(byte) }
            bytes.append(byte)
        }
        if needsQuotes { bytes.append(UInt8(ascii: "\"")) }
    }

    static func isPlainNumber(_ field: String) -> Bool {
        var utf8 = field.utf8[...]
        if utf8.first == UInt8(ascii: "-") { utf8 = utf8.dropFirst() }
        guard !utf8.isEmpty else { return false }
        var seenDot = false
        for byte in utf8 {
            if byte == UInt8(ascii: ".") && !seenDot {
                seenDot = true
            } else if byte < 48 || byte > 57 {
                return false
            }
        }
        return true
    }
}

/// Reads RFC 4180 CSV back into rows (used to check exports and in tests).
public enum CSVReader {
    public static func parse(_ text: String) -> [[String]] {
        var rows: [[String]] = []
        var row: [String] = []
        var field: [UInt8] = []
        var inQuotes = false
        let bytes = Array(text.utf8)
        var index = 0
        var rowHasContent = false
        while index < bytes.count {
            let byte = bytes[index]
            if inQuotes {
                if byte == UInt8(ascii: "\"") {
                    if index + 1 < bytes.count, bytes[index + 1] == UInt8(ascii: "\"") {
                        field.append(byte)
                        index += 1
                    } else {
                        inQuotes = false
                    }
                } else {
                    field.append(byte)
                }
            } else if byte == UInt8(ascii: "\"") {
                inQuotes = true
                rowHasContent = true
            } else if byte == UInt8(ascii: ",") {
                row.append(String(decoding: field, as: UTF8.self))
                field.removeAll()
                rowHasContent = true
            } else if byte == 0x0D || byte == 0x0A {
                if byte == 0x0D, index + 1 < bytes.count, bytes[index + 1] == 0x0A { index += 1 }
                if rowHasContent || !field.isEmpty {
                    row.append(String(decoding: field, as: UTF8.self))
                    rows.append(row)
                }
                row = []
                field.removeAll()
                rowHasContent = false
            } else {
                field.append(byte)
                rowHasContent = true
            }
            index += 1
        }
        if rowHasContent || !field.isEmpty {
            row.append(String(decoding: field, as: UTF8.self))
            rows.append(row)
        }
        return rows
    }

    /// Undoes the spreadsheet neutralisation of a cell (`'=…` back to `=…`).
    public static func unneutralise(_ field: String) -> String {
        guard field.hasPrefix("'") else { return field }
        let rest = String(field.dropFirst())
        return CSVWriter.isFormulaLike(rest) ? rest : field
    }
}
