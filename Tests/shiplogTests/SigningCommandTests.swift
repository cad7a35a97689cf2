import Foundation
import ShiplogKit
import ShiplogTestSupport
import Testing

/// keygen, signed appends, `verify --public-key`, `anchor` and `verify --anchor FILE`, run as a CI job would.
@Suite struct SigningCommandTests {
    let directory = TemporaryDirectory()
    var db: String { directory.file("store.db") }
    var key: String { directory.file("deploy.key") }

    func secret() throws -> String {
        try String(contentsOfFile: key, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    @Test func keygenWritesAPrivateKeyFileAndNeverOverwritesOne() throws {
        let made = try ShiplogProcess.run(["keygen", "--output", key])
        #expect(made.status == 0, "\(made.errors)")
        let mode = try FileManager.default.attributesOfItem(atPath: key)[.posixPermissions] as? Int
        #expect(mode == 0o600)
        let publicKey = try String(contentsOfFile: key + ".pub", encoding: .utf8).trimmingCharacters(in: .newlines)
        #expect(made.output.contains(publicKey))
        let signingKey = try secret()
        #expect(!made.output.contains(signingKey) && !made.errors.contains(signingKey), "the signing key was printed")
        let before = try secret()
        let again = try ShiplogProcess.run(["keygen", "--output", key])
        #expect(again.status == 1 && again.errors.contains("already exists"), "\(again.errors)")
        #expect(try secret() == before)
    }

    @Test func signedAppendsVerifyWithThePublicKeyAndUnsignedOnesAreRefusedOrNamed() throws {
        #expect(try ShiplogProcess.run(["keygen", "--output", key]).status == 0)
        let publicKey = key + ".pub"
        #expect(try ShiplogProcess.run(["init", "--db", db]).status == 0)
        // Without a key first: a store with unsigned old checkpoints.
        #expect(try ShiplogProcess.run(["ingest", "--db", db, "-"], input: NativeEvents.ndjson(count: 5)).status == 0)
        let uncovered = try ShiplogProcess.run(["verify", "--db", db, "--public-key", publicKey])
        #expect(uncovered.status == 4 && uncovered.errors.contains("positions 1…5 are not covered"), "\(uncovered.errors)")

        let signed = try ShiplogProcess.run(
            ["ingest", "--db", db, "--signing-key", key, "-"], input: NativeEvents.ndjson(count: 5, start: 5))
        #expect(signed.status == 0, "\(signed.errors)")
        let viaEnvironment = try ShiplogProcess.run(
            ["record", "push", "--db", db, "--repository", "acme/x", "--commit", String(repeating: "a", count: 40),
             "--ref", "refs/heads/main"],
            environment: ["SHIPLOG_SIGNING_KEY": try secret()])
        #expect(viaEnvironment.status == 0, "\(viaEnvironment.errors)")
        let ok = try ShiplogProcess.run(["verify", "--db", db, "--public-key", publicKey])
        #expect(ok.status == 0 && ok.output.contains("every event is covered"), "\(ok.errors)")

        let wrongKey = directory.write("bad.key", String(repeating: "zz", count: 32))
        chmod(wrongKey, 0o600)
        // Inputs as files: these runs stop before reading them (a pipe left unread would end the test with SIGPIPE).
        let one = directory.write("one.ndjson", NativeEvents.ndjson(count: 1, start: 30))
        let unsignedFile = directory.write("two.ndjson", NativeEvents.ndjson(count: 2, start: 20))
        let bad = try ShiplogProcess.run(["ingest", "--db", db, "--signing-key", wrongKey, one])
        #expect(bad.status == 2 && bad.errors.contains("does not hold a shiplog signing key"), "\(bad.errors)")
        let unsigned = try ShiplogProcess.run(["ingest", "--db", db, unsignedFile])
        #expect(unsigned.status == 1 && unsigned.errors.contains("appending needs the signing key"), "\(unsigned.errors)")
        chmod(key, 0o644)
        let open = try ShiplogProcess.run(["ingest", "--db", db, "--signing-key", key, one])
        #expect(open.status == 2 && open.errors.contains("can be read by others"), "\(open.errors)")
        let signingKey = try secret()
        #expect(!(bad.errors + open.errors + ok.output + uncovered.errors).contains(signingKey))
    }

    @Test func anAnchorFileDetectsATruncatedOrDivergedLog() throws {
        #expect(try ShiplogProcess.run(["keygen", "--output", key]).status == 0)
        #expect(try ShiplogProcess.run(["init", "--db", db]).status == 0)
        #expect(try ShiplogProcess.run(["ingest", "--db", db, "--signing-key", key, "-"], input: NativeEvents.ndjson(count: 4)).status == 0)
        let copy = directory.file("copy.db")
        try FileManager.default.copyItem(atPath: db, toPath: copy)
        #expect(try ShiplogProcess.run(
            ["ingest", "--db", db, "--signing-key", key, "-"], input: NativeEvents.ndjson(count: 4, start: 4)).status == 0)
        let anchorFile = directory.file("anchor.json")
        let anchor = try ShiplogProcess.run(["anchor", "--db", db, "--output", anchorFile])
        #expect(anchor.status == 0, "\(anchor.errors)")
        let text = try String(contentsOfFile: anchorFile, encoding: .utf8)
        #expect(text.contains("\"position\": 8") && text.contains("\"signature\""))

        let holds = try ShiplogProcess.run(["verify", "--db", db, "--anchor", anchorFile, "--public-key", key + ".pub"])
        #expect(holds.status == 0 && holds.output.contains("anchored chain at position 8"), "\(holds.errors)")
        // The copy is the log cut back to 4 (as someone deleting the tail and its checkpoints leaves it).
        let truncated = try ShiplogProcess.run(["verify", "--db", copy, "--anchor", anchorFile, "--public-key", key + ".pub"])
        #expect(truncated.status == 4 && truncated.errors.contains("past the end of the log"), "\(truncated.errors)")
        // The copy grown differently: same positions, another history.
        #expect(try ShiplogProcess.run(
            ["ingest", "--db", copy, "--signing-key", key, "-"], input: NativeEvents.ndjson(count: 4, start: 40)).status == 0)
        let diverged = try ShiplogProcess.run(["verify", "--db", copy, "--anchor", anchorFile])
        #expect(diverged.status == 4 && diverged.errors.contains("differs from the anchor"), "\(diverged.errors)")
    }

    @Test func anEmptiedStoreIsAnIntegrityFailure() throws {
        let empty = directory.write("empty.db", "")
        let verify = try ShiplogProcess.run(["verify", "--db", empty])
        #expect(verify.status == 4 && verify.errors.contains("it is empty"), "\(verify.errors)")
        let ingest = try ShiplogProcess.run(["ingest", "--db", empty, directory.write("one.ndjson", NativeEvents.ndjson(count: 1))])
        #expect(ingest.status != 0 && ingest.errors.contains("not a shiplog store"))
        #expect(try FileManager.default.attributesOfItem(atPath: empty)[.size] as? Int == 0)
    }

    @Test func knownAtLeavesOutEventsAppendedLater() throws {
        #expect(try ShiplogProcess.run(["init", "--db", db]).status == 0)
        #expect(try ShiplogProcess.run(["ingest", "--db", db, "-"], input: NativeEvents.ndjson(count: 3, services: 1)).status == 0)
        let asOf = (NativeEvents.base + 3600).rfc3339
        let published = try ShiplogProcess.run(["where", "--db", db, "--as-of", asOf, "--format", "json"])
        usleep(20_000)
        let then = System.now().rfc3339
        usleep(20_000)
        #expect(try ShiplogProcess.run(
            ["ingest", "--db", db, "-"], input: NativeEvents.line(NativeEvents.deployment(30, service: "S0", revision: 9, id: "late")) + "\n")
            .status == 0)
        let now = try ShiplogProcess.run(["where", "--db", db, "--as-of", asOf, "--format", "json"])
        #expect(now.output != published.output)
        let again = try ShiplogProcess.run(["where", "--db", db, "--as-of", asOf, "--known-at", then, "--format", "json"])
        #expect(again.status == 0 && again.output == published.output, "\(again.errors)")
        let events = try ShiplogProcess.run(["events", "--db", db, "--known-at", then, "--format", "ndjson"])
        #expect(events.output.split(separator: "\n").count == 3)
    }
}
