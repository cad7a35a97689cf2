import Foundation
import ShiplogKit
import ShiplogTestSupport
import Testing

/// What verify detects at each level (plain, with a public key, with an anchor), and what it
/// cannot detect without one. An attacker here writes the file with SQL, as anyone with write
/// access can; a tail "forged" by copying rows from a store shiplog appended to is exactly what
/// an attacker who recomputes the chain would write.
@Suite struct TamperEvidenceTests {
    let directory = TemporaryDirectory()
    let owner = CheckpointSigner()
    let attacker = CheckpointSigner()

    /// 30 events, then 10 more, both appends signed by `owner` (checkpoints at 30 and 40).
    func signedStore(_ name: String = "store.db") throws -> String {
        let store = try EventStore(path: directory.file(name), mode: .create)
        store.checkpointSigner = owner
        try store.append((0..<30).map { NativeEvents.document(NativeEvents.deployment($0)) })
        try store.append((30..<40).map { NativeEvents.document(NativeEvents.deployment($0)) })
        store.checkpointWAL()
        return store.path
    }

    /// A copy of `path` with more events appended by shiplog (signed by `signer`, if any).
    func copy(_ path: String, as name: String, appending events: Range<Int>, signer: CheckpointSigner?, tag: String = "")
        throws -> String
    {
        let target = directory.file(name)
        try FileManager.default.copyItem(atPath: path, toPath: target)
        let store = try EventStore(path: target)
        store.checkpointSigner = signer
        try store.append(events.map { NativeEvents.document(NativeEvents.deployment($0, id: "forged\(tag)-\($0)")) })
        store.checkpointWAL()
        return target
    }

    /// Copies rows of the tables named from `source` into `path` with plain INSERTs (the triggers
    /// refuse only UPDATE and DELETE).
    func insertRows(into path: String, from source: String, after position: Int64, tables: [String]) throws {
        try withRawDatabase(path) { database in
            try database.execute("ATTACH DATABASE '\(source)' AS forged")
            for table in tables {
                let key = table == "documents" ? "id" : "position"
                try database.execute("INSERT INTO main.\(table) SELECT * FROM forged.\(table) WHERE \(key) > \(position)")
            }
            try database.execute("DETACH DATABASE forged")
        }
    }

    func verify(_ path: String, keys: [CheckpointPublicKey] = [], anchor: ChainAnchor? = nil) throws -> VerifyReport {
        try EventStore(path: path).verify(anchor: anchor, publicKeys: keys)
    }

    @Test func anEmptiedFileIsNotAStoreAndStaysUntouched() throws {
        let path = directory.write("empty.db", "")
        #expect {
            try EventStore(path: path)
        } throws: { error in
            "\(error)".contains("not a shiplog store: it is empty")
        }
        #expect(try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int == 0)
        // `init` still turns an empty file into a store on purpose.
        #expect(try EventStore(path: path, mode: .create).schemaVersion > 0)
    }

    @Test func eventsInsertedWithoutACheckpointAtTheHeadAreDetected() throws {
        let path = try signedStore()
        let forged = try copy(path, as: "forged.db", appending: 40..<42, signer: owner)
        try insertRows(into: path, from: forged, after: 40, tables: ["documents", "events"])
        let failure = try verify(path).failure
        #expect(failure?.position == 41)
        #expect(failure?.reason.contains("no checkpoint there") == true, "\(String(describing: failure))")
    }

    @Test func appendingWithoutTheKeyToASignedStoreIsRefused() throws {
        let path = try signedStore()
        let store = try EventStore(path: path)
        #expect(throws: StoreError.self) { try store.append([NativeEvents.document(NativeEvents.deployment(50))]) }
        #expect(try store.head()?.position == 40)
    }

    @Test func aPlainInsertForgeryWithCheckpointsIsCaughtOnlyWithThePublicKey() throws {
        let path = try signedStore()
        let forged = try copy(path, as: "forged.db", appending: 40..<45, signer: attacker)
        try insertRows(into: path, from: forged, after: 40, tables: ["documents", "events", "checkpoints"])
        // Plain verify: the chain and the checkpoint are consistent; only a key can tell.
        let plain = try verify(path)
        #expect(plain.ok, "\(String(describing: plain.failure))")
        #expect(plain.headPosition == 45)

        let signed = try verify(path, keys: [owner.publicKey])
        #expect(signed.failure?.position == 41)
        #expect(signed.failure?.reason.contains("positions 41…45 are not covered") == true, "\(String(describing: signed.failure))")

        // The attacker's own signature rows do not help: they are by another key.
        try insertRows(into: path, from: forged, after: 40, tables: ["checkpoint_signatures"])
        let resigned = try verify(path, keys: [owner.publicKey]).failure
        #expect(resigned?.position == 41)
        #expect(resigned?.reason.contains("signed by another key: \(attacker.publicKey)") == true)
        #expect(try verify(path, keys: [owner.publicKey, attacker.publicKey]).ok)
    }

    @Test func aTailRewrittenWithItsCheckpointsIsCaughtByTheKeyAndTheAnchor() throws {
        let original = try signedStore()
        let anchor = ChainAnchor(try #require(try EventStore(path: original).anchor()))
        // Events 31…40 replaced by others, re-hashed, with a checkpoint: what someone who can write
        // the file (but has no key) can make of it. Built by shiplog from the store as it was at 30.
        let at30 = try EventStore(path: directory.file("at30.db"), mode: .create)
        at30.checkpointSigner = owner
        try at30.append((0..<30).map { NativeEvents.document(NativeEvents.deployment($0)) })
        at30.checkpointWAL()
        let rewritten = try copy(at30.path, as: "rewritten.db", appending: 30..<40, signer: attacker, tag: "-rewrite")

        #expect(try verify(rewritten).ok, "undetectable without a key or an anchor, by design")
        let signed = try verify(rewritten, keys: [owner.publicKey]).failure
        #expect(signed?.position == 31)
        let anchored = try verify(rewritten, anchor: anchor).failure
        #expect(anchored?.position == 40)
        #expect(anchored?.reason.contains("differs from the anchor") == true, "\(String(describing: anchored))")
    }

    @Test func aTruncatedTailPassesTheKeyButNotTheAnchor() throws {
        let original = try signedStore()
        let anchor = ChainAnchor(try #require(try EventStore(path: original).anchor()))
        try withRawDatabase(original) { database in
            try withTriggersDropped(database) {
                try database.execute(
                    """
                    DELETE FROM checkpoint_signatures WHERE position > 30; DELETE FROM checkpoints WHERE position > 30;
                    DELETE FROM events WHERE position > 30; DELETE FROM documents WHERE id > 30;
                    """)
            }
        }
        #expect(try verify(original, keys: [owner.publicKey]).ok, "every remaining event is signed: only an anchor tells")
        let anchored = try verify(original, keys: [owner.publicKey], anchor: anchor).failure
        #expect(anchored?.position == 31)
        #expect(anchored?.reason.contains("past the end of the log") == true, "\(String(describing: anchored))")
    }

    @Test func aForgedSignatureIsDetectedEvenWithoutTheKey() throws {
        let path = try signedStore()
        try withRawDatabase(path) { database in
            try withTriggersDropped(database) {
                try database.execute("UPDATE checkpoint_signatures SET signature = zeroblob(64) WHERE position = 40")
            }
        }
        let failure = try verify(path).failure
        #expect(failure?.position == 31)
        #expect(failure?.reason.contains("signature of the checkpoint at position 40 is not valid") == true)
    }

    @Test func unsignedOldCheckpointsAreCoveredByALaterSignatureAndNamedWhenNot() throws {
        let store = try EventStore(path: directory.file("mixed.db"), mode: .create)
        try store.append((0..<10).map { NativeEvents.document(NativeEvents.deployment($0)) })
        #expect(try store.verify(publicKeys: [owner.publicKey]).failure?.reason.contains("positions 1…10 are not covered") == true)
        store.checkpointSigner = owner
        try store.append((10..<20).map { NativeEvents.document(NativeEvents.deployment($0)) })
        let report = try store.verify(publicKeys: [owner.publicKey])
        #expect(report.ok && report.signedThrough == 20 && report.signedCheckpoints == 1 && report.checkpoints == 2)
    }

    @Test func aDroppedOrAddedTriggerIsDetected() throws {
        let path = try signedStore()
        try withRawDatabase(path) { try $0.execute("DROP TRIGGER events_refuse_delete") }
        let dropped = try verify(path).failure
        #expect(dropped?.position == 0)
        #expect(dropped?.reason.contains("trigger events_refuse_delete the migrations created is missing") == true)
        let added = try signedStore("added.db")
        try withRawDatabase(added) { try $0.execute("ANALYZE") }
        #expect(try verify(added).ok, "the planner's statistics tables are not tampering")
        try withRawDatabase(added) { database in
            try database.execute("CREATE TRIGGER events_after_insert AFTER INSERT ON events BEGIN SELECT 1; END")
        }
        #expect(try verify(added).failure?.reason.contains("trigger events_after_insert on events was not created") == true)
    }

    @Test func anIndexThatLostAnEventIsDetected() throws {
        // The index stops covering new rows (a partial index), then its definition is put back:
        // quick_check passes and the chain is intact, but a query through the index misses event 41.
        let path = try signedStore()
        let original = try withRawDatabase(path) { try $0.scalarText("SELECT sql FROM sqlite_master WHERE name = 'events_by_time'") }
        try setSchemaSQL(path, index: "events_by_time", sql: try #require(original) + " WHERE position <= 40")
        let store = try EventStore(path: path)
        store.checkpointSigner = owner
        try store.append([NativeEvents.document(NativeEvents.deployment(40))])
        store.checkpointWAL()
        try setSchemaSQL(path, index: "events_by_time", sql: try #require(original))

        let byIndex = try withRawDatabase(path) {
            try $0.scalarInt("SELECT count(*) FROM events INDEXED BY events_by_time WHERE event_time >= \((NativeEvents.base + 40).microseconds)")
        }
        #expect(byIndex == 0, "the damaged index hides the event from a query by time")
        #expect(try withRawDatabase(path) { try $0.scalarText("PRAGMA quick_check") } == "ok", "what verify used to run")
        let failure = try verify(path, keys: [owner.publicKey]).failure
        #expect(failure?.position == 0)
        #expect(failure?.reason.contains("integrity_check") == true, "\(String(describing: failure))")
    }

    func setSchemaSQL(_ path: String, index: String, sql: String) throws {
        try withRawDatabase(path) { database in
            try database.execute("PRAGMA writable_schema = ON")
            try database.execute("UPDATE sqlite_master SET sql = '\(sql.replacingOccurrences(of: "'", with: "''"))' WHERE name = '\(index)'")
            try database.execute("PRAGMA writable_schema = OFF")
        }
    }

    @Test func anAnchorFileWithAnAlteredSignatureOrPositionIsRefused() throws {
        let path = try signedStore()
        let anchor = try #require(try EventStore(path: path).anchor())
        let parsed = try SignedCheckpoint(json: Array(anchor.json.utf8), origin: "anchor.json")
        #expect(parsed == anchor)
        #expect(try verify(path, keys: [owner.publicKey], anchor: ChainAnchor(parsed)).ok)
        let moved = anchor.json.replacingOccurrences(of: "\"position\": 40", with: "\"position\": 30")
        let forged = try SignedCheckpoint(json: Array(moved.utf8), origin: "anchor.json")
        #expect(try verify(path, anchor: ChainAnchor(forged)).failure?.reason.contains("anchor's signature is not valid") == true)
        #expect(try verify(path, keys: [attacker.publicKey], anchor: ChainAnchor(parsed)).failure?.reason.contains("not by the given public key") == true)
    }
}

/// Runs `body` with the append-only triggers dropped, then creates them again from their own SQL
/// (so the schema is byte for byte what it was, as a careful attacker would leave it).
func withTriggersDropped(_ database: Database, _ body: () throws -> Void) throws {
    let statement = try database.prepare("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'")
    var triggers: [(String, String)] = []
    while try statement.step() { triggers.append((statement.text(0), statement.text(1))) }
    for (name, _) in triggers { try database.execute("DROP TRIGGER \(name)") }
    try body()
    for (_, sql) in triggers { try database.execute(sql) }
}

@Suite struct ExportManifestCheckTests {
    let directory = TemporaryDirectory()

    @Test func everyManifestFieldIsCheckedNotOnlyTheRowsChecksum() throws {
        let store = try EventStore(path: directory.file("demo.db"), mode: .create)
        try store.append(DemoScenario.documents())
        let path = directory.file("deployments.ndjson")
        let writer = try FileWriter(path: path)
        let manifest = try store.export(.deployments, filter: ScopeFilter(), format: .ndjson, to: writer)
        try writer.close()
        let text = try String(contentsOfFile: path, encoding: .utf8)
        #expect(try store.verifyExport(bytes: Array(text.utf8)) == .matches(position: manifest.position, rows: manifest.rowCount))

        let made = manifest.madeAt.rfc3339
        let edits: [(String, String, String)] = [
            ("\"rows\":\(manifest.rowCount)", "\"rows\":\(manifest.rowCount + 1)", "rows"),
            ("\"columns\":[\"", "\"columns\":[\"extra\",\"", "columns"),
            (made, "2099-01-01T00:00:00Z", "madeAt"),
            (made, "2001-01-01T00:00:00Z", "madeAt"),
            (made, "yesterday", "madeAt"),
            ("\"kind\":", "\"note\":\"added\",\"kind\":", "note"),
        ]
        for (from, to, field) in edits {
            #expect(text.contains(from), "\(from) not in the manifest")
            let edited = text.replacingOccurrences(of: from, with: to)
            guard case .mismatch(let reason) = try store.verifyExport(bytes: Array(edited.utf8)) else {
                Issue.record("an export whose manifest \(field) was edited (\(to)) verified")
                continue
            }
            #expect(reason.contains(field) || reason.contains("impossible"), "\(field): \(reason)")
        }
    }
}

@Suite struct KnownAtTests {
    let directory = TemporaryDirectory()

    @Test func knownAtReproducesAnAnswerGivenBeforeABackdatedEventArrived() throws {
        let store = try EventStore(path: directory.file("known.db"), mode: .create)
        try store.append((0..<6).map { NativeEvents.document(NativeEvents.deployment($0, revision: 1)) })
        let asOf = NativeEvents.base + 3600
        let published = try store.whereRunning(asOf: asOf).map(\.record)
        var request = MetricsRequest()
        request.asOf = asOf
        let publishedMetrics = try store.metrics(request).record
        let publishedAt = System.now()
        while System.now() == publishedAt {}

        // A deployment that happened before `asOf` but reached the log only now.
        try store.append([NativeEvents.document(NativeEvents.deployment(10, revision: 7, id: "backdated"))])
        #expect(try store.whereRunning(asOf: asOf).map(\.record) != published, "the late event changes the as-of answer")

        #expect(try store.position(knownAt: publishedAt) == 6)
        #expect(try store.asKnown(at: publishedAt) { try store.whereRunning(asOf: asOf).map(\.record) } == published)
        #expect(try store.asKnown(at: publishedAt) { try store.metrics(request).record } == publishedMetrics)
        // The projections are left as they were: the fold for the past was rolled back.
        #expect(try store.whereRunning(asOf: asOf).first?.taskDefinition?.description == "p1-crawler:7")
        #expect(try store.projectionsDifferFromRebuild() == nil)
    }
}
