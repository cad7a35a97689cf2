#if canImport(Glibc)
    import Glibc
#endif
import ShiplogKit

/// The fuzz targets; SHIPLOG_FUZZ_TARGET names one.
enum FuzzTarget: String, CaseIterable {
    /// `JSONParser.parse`, the parser with the `Redactor` inspector, and the writers' round trip.
    case json
    /// `InputReader` over the bytes as a file: NDJSON, sequences, arrays, `Records` files.
    case reader
    /// The input reader, then `Ingestor.prepare` with the source forced to one adapter (what
    /// `shiplog ingest --source NAME` does): the adapter's `read`, stream placement, the
    /// field-length limit and the schema validation of what it normalized.
    case native, github, eventbridge, cloudtrail, awscli, cdevents
    /// The whole ingest into a fresh SQLite store (source detection, append, projections), then
    /// `verify` of the store.
    case ingest

    var adapterName: String? {
        switch self {
        case .native, .github, .eventbridge, .cloudtrail, .awscli, .cdevents: return rawValue
        case .json, .reader, .ingest: return nil
        }
    }
}

/// What the harness checks besides "does not crash": properties of the code under test that
/// must hold for every input. A failed check aborts (and so is reported like a crash), with a
/// message starting with "shiplog-fuzz: invariant". SHIPLOG_FUZZ_CHECKS=0 turns them off.
func invariant(_ condition: @autoclosure () -> Bool, _ message: @autoclosure () -> String) {
    guard Harness.checks, !condition() else { return }
    printError("shiplog-fuzz: invariant violated (\(Harness.target.rawValue)): \(message())\n")
    abort()
}

enum Harness {
    nonisolated(unsafe) static var target = FuzzTarget.json
    nonisolated(unsafe) static var checks = true
    nonisolated(unsafe) static var strict = false
    nonisolated(unsafe) static var verbose = false
    nonisolated(unsafe) static var input: InputFile!
    nonisolated(unsafe) static var workDirectory = ""
    /// A store the adapter targets' Ingestor is built on (prepare never touches it).
    nonisolated(unsafe) static var scratchStore: EventStore!
    /// The bytes of a freshly created, empty store (the ingest target starts each input from it).
    nonisolated(unsafe) static var emptyStore: [UInt8] = []
    static let receivedAt = Timestamp.utc(year: 2026, month: 11, day: 27, hour: 12)

    static func setUp() {
        let name = System.environment("SHIPLOG_FUZZ_TARGET") ?? ""
        guard let selected = FuzzTarget(rawValue: name) else {
            printError(
                "shiplog-fuzz: set SHIPLOG_FUZZ_TARGET to one of: \(FuzzTarget.allCases.map(\.rawValue).joined(separator: ", "))"
                    + (name.isEmpty ? "" : " (not \"\(name)\")") + "\n")
            exit(2)
        }
        target = selected
        checks = System.environment("SHIPLOG_FUZZ_CHECKS") != "0"
        strict = System.environment("SHIPLOG_FUZZ_STRICT") == "1"
        verbose = System.environment("SHIPLOG_FUZZ_VERBOSE") == "1"

        let base = System.isDirectory("/dev/shm") ? "/dev/shm" : (System.environment("TMPDIR") ?? "/tmp")
        removeStaleWorkDirectories(in: base)
        workDirectory = "\(base)/shiplog-fuzz-\(System.processID)"
        do {
            try System.makeDirectories(workDirectory)
        } catch {
            printError("shiplog-fuzz: \(error)\n")
            exit(2)
        }
        atexit { Harness.removeWorkDirectory() }
        input = InputFile(directory: workDirectory)

        do {
            if target.adapterName != nil {
                scratchStore = try EventStore(path: workDirectory + "/scratch.db", mode: .create)
            }
            if target == .ingest {
                let path = workDirectory + "/template.db"
                do { _ = try EventStore(path: path, mode: .create) }  // closed again when released
                emptyStore = try System.readFile(path)
            }
        } catch {
            printError("shiplog-fuzz: cannot create a store in \(workDirectory): \(error)\n")
            exit(2)
        }
    }

    static func removeWorkDirectory() {
        removeDirectory(workDirectory)
    }

    static func removeDirectory(_ path: String) {
        guard !path.isEmpty, let names = try? System.listDirectory(path) else { return }
        for name in names { unlink(path + "/" + name) }
        rmdir(path)
    }

    /// A crashing input ends the process without running atexit handlers, so the work folders
    /// of processes that are gone are removed by the next one.
    static func removeStaleWorkDirectories(in base: String) {
        for name in (try? System.listDirectory(base)) ?? [] where name.hasPrefix("shiplog-fuzz-") {
            guard let pid = Int32(name.dropFirst("shiplog-fuzz-".count)), pid != System.processID else { continue }
            if kill(pid, 0) != 0 && errno == ESRCH { removeDirectory(base + "/" + name) }
        }
    }

    static func log(_ text: @autoclosure () -> String) {
        if verbose { printError("  \(text())\n") }
    }

    static func run(_ bytes: UnsafeBufferPointer<UInt8>) {
        switch target {
        case .json: fuzzJSON(bytes)
        case .reader: fuzzReader(bytes)
        case .native, .github, .eventbridge, .cloudtrail, .awscli, .cdevents: fuzzAdapter(bytes, source: target.rawValue)
        case .ingest: fuzzIngest(bytes)
        }
    }

    // MARK: json

    static func fuzzJSON(_ buffer: UnsafeBufferPointer<UInt8>) {
        let bytes = Array(buffer)
        let value: JSON
        do {
            value = try JSONParser.parse(bytes)
        } catch {
            log("JSONParser.parse: \(error.reason) at \(error.offset)")
            invariant(error.offset >= 0 && error.offset <= bytes.count, "error offset \(error.offset) outside 0...\(bytes.count)")
            // The redacting parse must fail too (it sees the same syntax).
            parseWithRedactor(bytes, expectSuccess: false)
            return
        }
        log("JSONParser.parse: \(value.kindName)")
        // What the writers print parses back to the same value (compact keeps member order).
        for (style, text) in [("compact", JSONWriter.compact(value)), ("pretty", JSONWriter.pretty(value))] {
            let again = try? JSONParser.parse(text)
            invariant(again == value, "\(style) output does not parse back to the same value: \(text.prefix(200))")
        }
        let canonical = JSONWriter.canonical(value)
        let reparsed = try? JSONParser.parse(canonical)
        invariant(reparsed.map(JSONWriter.canonical) == canonical, "canonical form is not stable: \(canonical.prefix(200))")
        parseWithRedactor(bytes, expectSuccess: true)
        if value.object != nil, value["Records"] != nil {
            bytes.withUnsafeBytes { raw in
                var locator = JSONParser(bytes: raw)
                let ranges = try? locator.elementRanges(ofArrayMember: "Records")
                invariant(ranges != nil, "elementRanges failed on a document that parses")
                for range in ranges ?? [] {
                    invariant(range.lowerBound >= 0 && range.upperBound <= raw.count && !range.isEmpty, "element range \(range) out of bounds")
                }
            }
        }
    }

    static func parseWithRedactor(_ bytes: [UInt8], expectSuccess: Bool) {
        bytes.withUnsafeBytes { raw in
            var parser = JSONParser(bytes: raw, inspector: Redactor())
            do {
                _ = try parser.parseValue()
                parser.skipWhitespace()
                let whole = parser.isAtEnd
                invariant(expectSuccess || !whole, "the redacting parser accepts what JSONParser.parse refuses")
                for replacement in parser.replacements {
                    invariant(
                        replacement.range.lowerBound >= 0 && replacement.range.upperBound <= raw.count,
                        "replacement range \(replacement.range) out of bounds")
                }
            } catch {
                invariant(!expectSuccess, "the redacting parser refuses what JSONParser.parse accepts: \(error)")
            }
        }
    }

    // MARK: reader

    /// Every item of the input, after checking what the reader promises about them.
    static func readItems(_ buffer: UnsafeBufferPointer<UInt8>) -> [InputItem] {
        input.write(buffer)
        var items: [InputItem] = []
        do {
            let reader = try InputReader(path: input.path)
            while let item = try reader.next() {
                items.append(item)
                // Every item consumes input: a reader that yields more items than bytes is looping.
                invariant(items.count <= buffer.count + 2, "the reader yields more items (\(items.count)) than the input has bytes")
                switch item {
                case .document(let document):
                    log("document at line \(document.origin.line): \(document.bytes.count) bytes, \(document.redactions) redactions")
                    invariant(document.json.object != nil, "a document that is not an object")
                    // The stored bytes (redactions spliced in) are the same document.
                    let reparsed = try? JSONParser.parse(document.bytes)
                    invariant(
                        reparsed == document.json,
                        "a document's bytes do not parse to its JSON: \(String(decoding: document.bytes.prefix(200), as: UTF8.self))")
                case .invalid(let origin, let reason, let bytes):
                    log("invalid at line \(origin.line): \(reason) (\(bytes.count) bytes)")
                }
            }
        } catch {
            log("reader: \(error)")
        }
        return items
    }

    static func fuzzReader(_ buffer: UnsafeBufferPointer<UInt8>) {
        let items = readItems(buffer)
        guard checks else { return }
        // Input that is one JSON document: the reader must see exactly its documents. (The
        // reader refuses a member name given twice, so such input is not one valid document.)
        guard let whole = try? JSONParser.parse(Array(buffer), rejectsDuplicateKeys: true) else { return }
        let documents = items.filter { if case .document = $0 { return true } else { return false } }.count
        func expected(_ value: JSON) -> Int? {
            guard let object = value.object else { return nil }
            if object.count == 1, let records = object["Records"]?.array, !records.isEmpty {
                return records.allSatisfy { $0.object != nil } ? records.count : nil
            }
            return 1
        }
        switch whole {
        case .object:
            if let count = expected(whole) {
                invariant(documents == count && items.count == count, "one valid document read as \(items.count) items, \(documents) documents")
            }
        case .array(let elements):
            let counts = elements.map(expected)
            if counts.allSatisfy({ $0 != nil }) {
                let count = counts.reduce(0) { $0 + $1! }
                invariant(documents == count && items.count == count, "a valid array of \(count) documents read as \(items.count) items, \(documents) documents")
            }
        default:
            break
        }
    }

    // MARK: adapters

    static func fuzzAdapter(_ buffer: UnsafeBufferPointer<UInt8>, source: String) {
        var options = IngestOptions()
        options.forcedSource = source
        let ingestor: Ingestor
        do { ingestor = try Ingestor(store: scratchStore, options: options) } catch { fatalError("\(error)") }
        for item in readItems(buffer) {
            guard case .document(let document) = item else { continue }
            _ = SourceRegistry.detect(document.json)  // every adapter's recognizes()
            switch ingestor.prepare(document, receivedAt: receivedAt) {
            case .success(nil):
                log("\(source): ignored")
            case .failure(let error):
                log("\(source): rejected: \(error.reason)")
            case .success(let prepared?):
                log("\(source): \(prepared.events.count) events: \(prepared.events.map(\.type).joined(separator: ", "))")
                for event in prepared.events { checkEvent(event) }
            }
        }
    }

    /// What every normalized event must allow: a stream, a native document that is valid JSON.
    static func checkEvent(_ event: NewEvent) {
        let stream = try? event.stream()
        invariant(stream != nil, "prepared event \(event.id) has no stream")
        let native = JSONWriter.compact(NativeAdapter.document(for: event))
        let parsed = try? JSONParser.parse(native)
        invariant(parsed != nil, "the native document of \(event.id) is not JSON: \(native.prefix(200))")
        _ = JSONWriter.canonical(.object(event.data))
        _ = Recorder.document(event)
        guard strict, let parsed else { return }
        // Strict: an event as `events --format ndjson` prints it reads back as the same event.
        let context = AdapterContext(documentSHA256: String(repeating: "0", count: 64), receivedAt: receivedAt)
        do {
            guard case .events(let again) = try NativeAdapter().read(parsed, context: context) else {
                invariant(false, "the native document of \(event.id) is ignored by the native adapter")
                return
            }
            invariant(
                again.count == 1 && again[0].id == event.id && again[0].type == event.type && again[0].time == event.time
                    && again[0].data == event.data,
                "the native document of \(event.id) reads back as a different event: \(native.prefix(300))")
        } catch {
            invariant(false, "the native document of \(event.id) is refused by the native adapter: \(error.reason): \(native.prefix(300))")
        }
    }

    // MARK: ingest

    static func fuzzIngest(_ buffer: UnsafeBufferPointer<UInt8>) {
        input.write(buffer)
        let path = workDirectory + "/store.db"
        unlink(path + "-wal")
        unlink(path + "-shm")
        do { try System.writeFile(path, emptyStore) } catch { fatalError("\(error)") }
        do {
            let store = try EventStore(path: path, mode: .existing)
            var options = IngestOptions()
            options.skipInvalid = true
            let report = try Ingestor(store: store, options: options).ingest(files: [input.path]) { rejection in
                log("rejected: \(rejection)")
            }
            log("ingest: \(report.documents) documents, \(report.appended) appended, \(report.duplicates) duplicates, \(report.rejected) rejected")
            if report.appended > 0 {
                let verified = try store.verify()
                invariant(verified.ok, "the store does not verify after ingest: \(verified.failure.map(String.init(describing:)) ?? "")")
                let differing = try store.projectionsDifferFromRebuild()
                invariant(differing == nil, "the projections differ from a rebuild in \(differing ?? "")")
            }
        } catch {
            log("ingest: \(error)")
        }
    }
}

/// The input bytes as a file the InputReader can open, in the work directory (tmpfs when
/// /dev/shm exists). The reader opens it anew for each input, as `shiplog ingest` opens a file.
final class InputFile {
    let descriptor: Int32
    let path: String

    init(directory: String) {
        path = directory + "/input.json"
        descriptor = open(path, O_RDWR | O_CREAT | O_TRUNC, 0o600)
        guard descriptor >= 0 else { fatalError("cannot create \(path)") }
    }

    func write(_ bytes: UnsafeBufferPointer<UInt8>) {
        guard ftruncate(descriptor, 0) == 0 else { fatalError("ftruncate \(path) failed") }
        var written = 0
        while written < bytes.count {
            let count = pwrite(descriptor, bytes.baseAddress! + written, bytes.count - written, off_t(written))
            guard count > 0 else { fatalError("write \(path) failed") }
            written += count
        }
    }
}

/// Writes to standard error without going through C's `stderr` (shared mutable state to Swift 6).
func printError(_ text: String) {
    var bytes = Array(text.utf8)
    var offset = 0
    while offset < bytes.count {
        let count = bytes.withUnsafeMutableBytes { Glibc.write(2, $0.baseAddress! + offset, $0.count - offset) }
        guard count > 0 else { return }
        offset += count
    }
}

/// Seeds for the native target: the native documents of the events the fixtures normalize to.
enum NativeSeeds {
    static func write(to directory: String, from paths: [String]) -> CInt {
        do {
            try System.makeDirectories(directory)
            let store = try EventStore(path: directory + "/.scratch.db", mode: .create)
            defer {
                for suffix in ["", "-wal", "-shm"] { unlink(directory + "/.scratch.db" + suffix) }
            }
            let ingestor = try Ingestor(store: store, options: IngestOptions())
            var written = 0
            for file in try Ingestor.expand(paths) {
                let reader = try InputReader(path: file)
                while let item = try reader.next() {
                    guard case .document(let document) = item,
                        case .success(let prepared?) = ingestor.prepare(document, receivedAt: Harness.receivedAt)
                    else { continue }
                    for event in prepared.events {
                        written += 1
                        let text = JSONWriter.compact(NativeAdapter.document(for: event)) + "\n"
                        try System.writeFile(directory + "/native-\(written).json", Array(text.utf8))
                    }
                }
            }
            print("wrote \(written) native documents to \(directory)")
            return 0
        } catch {
            printError("shiplog-fuzz: \(error)\n")
            return 1
        }
    }
}
