import ArgumentParser
import ShiplogKit

struct Stats: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Show counts and sizes: events by type, bytes raw vs stored.")

    @OptionGroup var store: StoreOptions

    @Option(name: .long, help: "Output format: table or json.")
    var format: OutputFormat = .table

    func run() throws {
        let stats = try store.open().stats()
        if format == .json {
            Terminal.write(JSONWriter.pretty(.object(Self.record(stats))) + "\n")
            return
        }
        var text = """
            store        \(store.path) (schema \(stats.schemaVersion))
            events       \(stats.events) in \(stats.streams) streams, from \(stats.documents) documents
            time span    \(stats.firstEventTime?.rfc3339 ?? "-") … \(stats.lastEventTime?.rfc3339 ?? "-")
            documents    \(Self.bytes(stats.rawDocumentBytes)) as received, \(Self.bytes(stats.storedDocumentBytes)) stored
            event data   \(Self.bytes(stats.rawDataBytes)) as JSON, \(Self.bytes(stats.storedDataBytes)) stored
            compression  \(Self.ratio(stats.compressionRatio)), counting \(Self.bytes(stats.dictionaries.reduce(0) { $0 + $1.bytes })) of dictionaries
            file         \(Self.bytes(stats.databaseFileBytes)) database + \(Self.bytes(stats.walFileBytes)) WAL\(Self.share(stats))
            head         position \(stats.headPosition), chain \(stats.headChain ?? "-")

            """
        for dictionary in stats.dictionaries {
            text += "dictionary   #\(dictionary.id): \(Self.bytes(dictionary.bytes)), trained on \(dictionary.samples) documents, used by \(dictionary.documents)\n"
        }
        var types = TextTable([.init("TYPE"), .init("EVENTS", rightAligned: true)])
        for entry in stats.eventsByType { types.append([entry.type, String(entry.count)]) }
        var sources = TextTable([.init("SOURCE"), .init("DOCUMENTS", rightAligned: true)])
        for entry in stats.documentsBySource { sources.append([entry.source, String(entry.count)]) }
        Terminal.write(text + "\n" + types.render() + "\n" + sources.render())
    }

    static func record(_ stats: StoreStats) -> JSONObject {
        [
            "events": .number(String(stats.events)), "documents": .number(String(stats.documents)),
            "streams": .number(String(stats.streams)),
            "eventsByType": .object(JSONObject(stats.eventsByType.map { ($0.type, .number(String($0.count))) })),
            "documentsBySource": .object(JSONObject(stats.documentsBySource.map { ($0.source, .number(String($0.count))) })),
            "rawDocumentBytes": .number(String(stats.rawDocumentBytes)),
            "storedDocumentBytes": .number(String(stats.storedDocumentBytes)),
            "rawDataBytes": .number(String(stats.rawDataBytes)), "storedDataBytes": .number(String(stats.storedDataBytes)),
            "compressionRatio": .number(String(String(format3: stats.compressionRatio))),
            "databaseFileBytes": .number(String(stats.databaseFileBytes)), "walFileBytes": .number(String(stats.walFileBytes)),
            "dictionaries": .array(stats.dictionaries.map {
                ["id": .number(String($0.id)), "bytes": .number(String($0.bytes)), "samples": .number(String($0.samples)),
                 "documents": .number(String($0.documents))]
            }),
            "headPosition": .number(String(stats.headPosition)), "headChain": JSON(stats.headChain),
            "firstEventTime": JSON(stats.firstEventTime?.rfc3339), "lastEventTime": JSON(stats.lastEventTime?.rfc3339),
        ]
    }

    static func ratio(_ value: Double) -> String {
        value == 0 ? "no documents" : "\(String(format3: value).dropLast(1))× smaller"
    }

    /// The whole file against the documents as received: payloads, indexes, projections and all.
    static func share(_ stats: StoreStats) -> String {
        guard stats.rawDocumentBytes > 0 else { return "" }
        let ratio = Double(stats.databaseFileBytes + stats.walFileBytes) / Double(stats.rawDocumentBytes)
        return ", \(String(format3: ratio).dropLast(1))× the documents as received (all included)"
    }

    static func bytes(_ count: Int64) -> String {
        if count < 10 * 1024 { return "\(count) B" }
        if count < 10 * 1024 * 1024 { return "\(count / 1024) KiB" }
        return "\(count / (1024 * 1024)) MiB"
    }
}
