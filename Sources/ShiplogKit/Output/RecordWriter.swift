/// The machine-readable formats every query offers besides its table.
public enum OutputFormat: String, CaseIterable, Sendable {
    case table, json, ndjson, csv
}

/// Streams records (JSON objects with a fixed key order) as a JSON array, NDJSON or CSV.
///
/// CSV has a header row of the same keys; lists of scalars are joined with `;`, nested objects
/// are written as compact JSON, null is an empty cell.
public final class RecordWriter {
    public let format: OutputFormat
    private let columns: [String]
    private let output: FileWriter
    private var count = 0
    private var csv = CSVWriter()
    private var json = JSONWriter(style: .pretty)

    /// `columns` is the CSV header (the keys of every record, in order).
    public init(format: OutputFormat, columns: [String], output: FileWriter) {
        precondition(format != .table, "tables are rendered by TextTable")
        self.format = format
        self.columns = columns
        self.output = output
    }

    public func write(_ record: JSONObject) throws(SystemError) {
        switch format {
        case .json:
            try output.write(count == 0 ? "[\n  " : ",\n  ")
            json.bytes.removeAll(keepingCapacity: true)
            json.write(.object(record), indent: 1)
            try output.write(json.bytes)
        case .ndjson:
            try output.write(JSONWriter.compact(.object(record)))
            try output.write("\n")
        case .csv:
            if count == 0 { csv.writeRow(columns) }
            csv.writeRow(columns.map { Self.cell(record[$0]) })
            try output.write(csv.take())
        case .table:
            break
        }
        count += 1
    }

    /// Closes the array (JSON) or writes the header of an empty CSV; flushes.
    public func finish(trailer: [String] = []) throws(SystemError) {
        switch format {
        case .json: try output.write(count == 0 ? "[]\n" : "\n]\n")
        case .csv:
            if count == 0 { csv.writeRow(columns) }
            try output.write(csv.take())
        default: break
        }
        try output.flush()
    }

    /// One CSV cell for a value.
    public static func cell(_ value: JSON?) -> String {
        switch value {
        case nil, .null?: return ""
        case .string(let text)?: return text
        case .number(let text)?: return text
        case .bool(let flag)?: return flag ? "true" : "false"
        case .array(let items)?:
            if items.allSatisfy({ $0.object == nil && $0.array == nil }) {
                return items.map { cell($0) }.joined(separator: ";")
            }
            return JSONWriter.compact(.array(items))
        case .object(let object)?: return JSONWriter.compact(.object(object))
        }
    }
}
