import ShiplogKit
import ShiplogTestSupport
import Testing

@Suite struct EventLogTests {
    let directory = TemporaryDirectory()

    func newStore() throws -> EventStore {
        try EventStore(path: directory.file("store.db"), mode: .create)
    }

    @Test func originalDocumentBytesComeBackExactly() throws {
        let store = try newStore()
        // Enough documents that the store trains a dictionary, with odd bytes in them.
        var documents: [PreparedDocument] = []
        for index in 0..<300 {
            let event = NativeEvents.deployment(index)
            var bytes = Array(NativeEvents.line(event).utf8)
            bytes.insert(contentsOf: Array("  \t".utf8), at: 1)  // whitespace kept verbatim
            documents.append(PreparedDocument(source: "native", bytes: bytes, events: [event]))
        }
        try store.append(documents)
        var seen = 0
        try store.events(EventFilter()) { (event: StoredEvent) throws in
            let stored = try #require(try store.document(id: event.documentID))
            #expect(stored.bytes == documents[seen].bytes)
            #expect(stored.source == "native")
            seen += 1
        }
        #expect(seen == 300)
        let stats = try store.stats()
        #expect(stats.dictionaries.count == 1)
        #expect(stats.documentsByCodec[.lz4Dictionary] == 300)
        #expect(stats.storedDocumentBytes * 2 < stats.rawDocumentBytes)
    }

    @Test func oldRowsStayReadableWhenANewDictionaryIsTrained() throws {
        let store = try newStore()
        let first = (0..<40).map { NativeEvents.document(NativeEvents.deployment($0)) }
        try store.append(first)
        // 8× as many documents as the first dictionary saw: a second one is trained.
        let second = (40..<400).map { NativeEvents.document(NativeEvents.deployment($0, service: "P2")) }
        try store.append(second)
        let stats = try store.stats()
        #expect(stats.dictionaries.count == 2)
        var index = 0
        let all = first + second
        try store.events(EventFilter()) { (event: StoredEvent) throws in
            #expect(try store.document(id: event.documentID)?.bytes == all[index].bytes)
            index += 1
        }
        #expect(index == 400)
        #expect(try store.verify().ok)
    }

    @Test func appendingAnIdAgainIsACountedDuplicateNotASecondRow() throws {
        let store = try newStore()
        let documents = (0..<5).map { NativeEvents.document(NativeEvents.deployment($0)) }
        let first = try store.append(documents)
        #expect(first.appended == 5 && first.duplicates == 0)
        let again = try store.append(documents + [NativeEvents.document(NativeEvents.deployment(5))])
        #expect(again.appended == 1)
        #expect(again.duplicates == 5)
        #expect(try store.stats().events == 6)
        #expect(try store.stats().documents == 6)
    }

    @Test func anIdStoredWithDifferentContentIsRefused() throws {
        let store = try newStore()
        try store.append([NativeEvents.document(NativeEvents.deployment(1, id: "same-id"))])
        let altered = NativeEvents.deployment(1, revision: 9, id: "same-id")
        #expect {
            try store.append([NativeEvents.document(altered)])
        } throws: { error in
            if case .conflictingDuplicate(let id, let position) = error as? StoreError { return id == "same-id" && position == 1 }
            return false
        }
        #expect(try store.stats().events == 1)
    }

    @Test func positionsAreGapFreeAndStreamVersionsCountPerStream() throws {
        let store = try newStore()
        try store.append([0, 1, 2, 3].map { NativeEvents.document(NativeEvents.deployment($0, service: $0 % 2 == 0 ? "A" : "B")) })
        var seen: [(Int64, String, Int64)] = []
        try store.events(EventFilter()) { seen.append(($0.position, $0.stream, $0.streamVersion)) }
        #expect(seen.map(\.0) == [1, 2, 3, 4])
        #expect(seen.map(\.1) == ["service/ML-PIPE/A", "service/ML-PIPE/B", "service/ML-PIPE/A", "service/ML-PIPE/B"])
        #expect(seen.map(\.2) == [1, 1, 2, 2])
    }

    @Test func expectedVersionIsCheckedBeforeAppending() throws {
        let store = try newStore()
        let stream = "service/ML-PIPE/P1"
        try store.append([NativeEvents.document(NativeEvents.deployment(1))], expecting: [stream: .noStream])
        #expect {
            try store.append([NativeEvents.document(NativeEvents.deployment(2))], expecting: [stream: .noStream])
        } throws: { error in
            if case .versionConflict(_, .noStream, 1) = error as? StoreError { return true }
            return false
        }
        #expect(throws: StoreError.self) {
            try store.append([NativeEvents.document(NativeEvents.deployment(2))], expecting: [stream: .exactly(0)])
        }
        try store.append([NativeEvents.document(NativeEvents.deployment(2))], expecting: [stream: .exactly(1)])
        try store.append([NativeEvents.document(NativeEvents.deployment(3))], expecting: [stream: .streamExists])
        #expect(throws: StoreError.self) {
            try store.append([NativeEvents.document(NativeEvents.deployment(1, service: "P9"))],
                             expecting: ["service/ML-PIPE/P9": .streamExists])
        }
        #expect(try store.stats().events == 3)
    }

    @Test func aRetriedAppendWithAStaleExpectedVersionIsIdempotent() throws {
        let store = try newStore()
        let batch = [NativeEvents.document(NativeEvents.deployment(1)), NativeEvents.document(NativeEvents.deployment(2))]
        try store.append(batch, expecting: ["service/ML-PIPE/P1": .noStream])
        // The client did not see the reply and retries: every event is already there, so it succeeds.
        let retried = try store.append(batch, expecting: ["service/ML-PIPE/P1": .noStream])
        #expect(retried.appended == 0 && retried.duplicates == 2)
    }

    @Test func triggersRefuseUpdateAndDeleteOnTheLog() throws {
        let store = try newStore()
        try store.append([NativeEvents.document(NativeEvents.deployment(1))])
        try withRawDatabase(store.path) { database in
            for statement in [
                "UPDATE events SET type = 'x'", "DELETE FROM events", "UPDATE documents SET body = x'00'",
                "DELETE FROM documents", "UPDATE streams SET name = 'x'", "DELETE FROM streams",
                "DELETE FROM checkpoints", "UPDATE checkpoints SET chain = x'00'",
            ] {
                #expect {
                    try database.execute(statement)
                } throws: { error in
                    (error as? DatabaseError)?.message.contains("append-only") == true
                }
            }
        }
        #expect(try store.verify().ok)
    }

    @Test func aNewerSchemaIsRefusedWithAClearMessage() throws {
        let path = try newStore().path
        try withRawDatabase(path) { try $0.execute("PRAGMA user_version = 99") }
        #expect {
            try EventStore(path: path)
        } throws: { error in
            "\(error)".contains("schema version 99, newer than this shiplog knows")
        }
    }

    @Test func aFileThatIsNotADatabaseIsRefused() throws {
        let path = directory.write("junk.db", String(repeating: "not sqlite ", count: 500))
        #expect {
            try EventStore(path: path)
        } throws: { error in
            "\(error)".contains("not a shiplog store")
        }
        #expect(throws: StoreError.self) { try EventStore(path: directory.file("absent.db")) }
    }
}

/// verify must catch what someone with write access to the file does after dropping the triggers.
@Suite struct TamperDetectionTests {
    let directory = TemporaryDirectory()

    /// A store of 40 events over two services; returns its path.
    func populatedStore() throws -> String {
        let store = try EventStore(path: directory.file("store.db"), mode: .create)
        try store.append((0..<40).map { NativeEvents.document(NativeEvents.deployment($0, service: $0 % 2 == 0 ? "P1" : "P2")) })
        #expect(try store.verify().ok)
        return store.path
    }

    func tamper(_ sql: String) throws -> IntegrityFailure? {
        let path = try populatedStore()
        try withRawDatabase(path) { database in
            try dropAppendOnlyTriggers(database)
            try database.execute("PRAGMA foreign_keys = OFF")
            try database.execute(sql)
        }
        return try EventStore(path: path).verify().failure
    }

    /// Flips one bit in the middle of a blob, as a disk error or a careless edit would.
    func flipByte(_ path: String, table: String, column: String, key: String, row: Int64) throws {
        try withRawDatabase(path) { database in
            try dropAppendOnlyTriggers(database)
            let read = try database.prepare("SELECT \(column) FROM \(table) WHERE \(key) = \(row)")
            _ = try read.step()
            var bytes = read.blob(0)
            bytes[bytes.count / 2] ^= 0x01
            let write = try database.prepare("UPDATE \(table) SET \(column) = ? WHERE \(key) = \(row)")
            write.bind(1, blob: bytes)
            try write.run()
        }
    }

    @Test func detectsAChangedPayloadByte() throws {
        let path = try populatedStore()
        try flipByte(path, table: "documents", column: "body", key: "id", row: 12)
        let failure = try EventStore(path: path).verify().failure
        #expect(failure?.position == 12)
        #expect(failure?.reason.contains("document 12") == true)
    }

    @Test func detectsChangedEventData() throws {
        let path = try populatedStore()
        try flipByte(path, table: "events", column: "data", key: "position", row: 9)
        #expect(try EventStore(path: path).verify().failure?.position == 9)
    }

    @Test func detectsInvalidUTF8PutInPlaceOfAReplacementCharacter() throws {
        // Text is read leniently (bad bytes become U+FFFD), so a stored U+FFFD swapped for a bad
        // byte would hash the same: verify checks the stored bytes themselves.
        let path = directory.file("fffd.db")
        let store = try EventStore(path: path, mode: .create)
        var event = NativeEvents.deployment(1)
        event.data["actor"] = "jiwoo\u{FFFD}"
        try store.append([NativeEvents.deployment(0), event].map(NativeEvents.document))
        #expect(try store.verify().ok)
        try withRawDatabase(path) { database in
            try dropAppendOnlyTriggers(database)
            try database.execute("UPDATE events SET actor = CAST(X'6A69776F6FFF' AS TEXT) WHERE position = 2")
        }
        let failure = try EventStore(path: path).verify().failure
        #expect(failure?.position == 2)
        #expect(failure?.reason.contains("actor is not valid UTF-8") == true)
    }

    @Test func detectsAChangedColumn() throws {
        let failure = try tamper("UPDATE events SET actor = 'mallory' WHERE position = 7")
        #expect(failure?.position == 7)
        #expect(failure?.reason.contains("actor column") == true)
    }

    @Test func detectsADeletedRow() throws {
        let failure = try tamper("DELETE FROM events WHERE position = 20")
        #expect(failure?.position == 20)
        #expect(failure?.reason.contains("missing") == true)
    }

    @Test func detectsAReorderedChain() throws {
        // Swap the content of two events, keeping positions.
        let failure = try tamper("""
            CREATE TEMP TABLE a AS SELECT * FROM events WHERE position = 15;
            CREATE TEMP TABLE b AS SELECT * FROM events WHERE position = 16;
            DELETE FROM events WHERE position IN (15, 16);
            INSERT INTO events SELECT 15, event_id, type, stream_id, stream_version, event_time, recorded_at, document_id,
                cluster, service, commit_sha, actor, data, data_length, chain FROM b;
            INSERT INTO events SELECT 16, event_id, type, stream_id, stream_version, event_time, recorded_at, document_id,
                cluster, service, commit_sha, actor, data, data_length, chain FROM a;
            """)
        #expect(failure?.position == 15)
    }

    @Test func detectsATruncatedTail() throws {
        let failure = try tamper("DELETE FROM events WHERE position > 30")
        #expect(failure?.position == 31)
        #expect(failure?.reason.contains("removed from the end") == true)
    }

    @Test func detectsAnExternalAnchorMismatchAfterAFullRewrite() throws {
        let path = try populatedStore()
        let head = try #require(try EventStore(path: path).head())
        let anchor = try #require(ChainAnchor("\(head.chain)@\(head.position)"))
        #expect(try EventStore(path: path).verify(anchor: anchor).ok)
        let other = try #require(ChainAnchor(String(repeating: "ab", count: 32)))
        #expect(try EventStore(path: path).verify(anchor: other).failure?.position == head.position)
    }
}

@Suite struct CompressionTests {
    let dictionary = CompressionDictionary(id: 1, bytes: Array(String(repeating: #"{"type":"task.state","cluster":"ML-PIPE"}"#, count: 40).utf8))

    @Test func eventDataDecodesAgainstItsDictionaryByteForByte() throws {
        let data = Array(#"{"type":"task.state","cluster":"ML-PIPE","service":"P1","lastStatus":"RUNNING"}"#.utf8)
        let compressed = EventCompressor(dictionary: dictionary).compress(data: data)
        #expect(compressed.data.count < EventCompressor(dictionary: nil).compress(data: data).data.count)
        let decoded = try compressed.data.withUnsafeBytes {
            try EventDecompressor.data($0, length: data.count, dictionary: dictionary.bytes)
        }
        #expect(decoded == data)
    }

    @Test func aDamagedLengthIsCorruptionNotAHugeAllocation() throws {
        let data = Array(#"{"service":"P1"}"#.utf8)
        let compressed = EventCompressor(dictionary: dictionary).compress(data: data)
        for length in [data.count + 1, 1 << 40, -1] {
            #expect(throws: CompressionError.self) {
                try compressed.data.withUnsafeBytes { try EventDecompressor.data($0, length: length, dictionary: self.dictionary.bytes) }
            }
        }
    }
}
