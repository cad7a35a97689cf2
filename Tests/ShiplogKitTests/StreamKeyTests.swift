import ShiplogKit
import ShiplogTestSupport
import Testing

/// Stream keys name one service each, whatever characters its cluster and service names hold.
@Suite struct StreamKeyTests {
    @Test func aSlashInAClusterOrServiceNameDoesNotMergeTwoServices() throws {
        let directory = TemporaryDirectory()
        let store = try EventStore(path: directory.file("store.db"), mode: .create)
        try store.append([
            NativeEvents.document(NativeEvents.deployment(1, cluster: "prod/eu", service: "api", revision: 1)),
            NativeEvents.document(NativeEvents.deployment(2, cluster: "prod", service: "eu/api", revision: 2)),
            NativeEvents.document(NativeEvents.deployment(3, cluster: "a%2Fb", service: "c", revision: 3)),
            NativeEvents.document(NativeEvents.deployment(4, cluster: "a/b", service: "c", revision: 4)),
        ])
        var streams: [String] = []
        try store.events(EventFilter()) { streams.append($0.stream) }
        #expect(Set(streams).count == 4, "\(streams)")
        let running = try store.whereRunning().map { "\($0.cluster) | \($0.service) | \($0.taskDefinition?.description ?? "")" }
        #expect(running.sorted() == [
            "a%2Fb | c | p1-crawler:3", "a/b | c | p1-crawler:4", "prod | eu/api | p1-crawler:2", "prod/eu | api | p1-crawler:1",
        ])
        #expect(try store.verify().ok)
        #expect(try store.projectionsDifferFromRebuild() == nil)
    }

    @Test func keysOfNamesWithoutSlashOrPercentAreTheOnesStoresAlreadyHold() throws {
        #expect(EventCatalog.serviceStream(cluster: "ML-PIPE", service: "P1_x") == "service/ML-PIPE/P1_x")
        for (cluster, service) in [("prod/eu", "api"), ("prod", "eu/api"), ("100%", "/"), ("%2F", "%25"), ("", "a//b")] {
            let key = EventCatalog.serviceStream(cluster: cluster, service: service)
            let names = EventCatalog.serviceNames(ofStream: key)
            #expect(names?.cluster == cluster && names?.service == service, "\(key)")
        }
        // A key written before the escaping still reads as it always did.
        let legacy = EventCatalog.serviceNames(ofStream: "service/prod/eu/api")
        #expect(legacy?.cluster == "prod" && legacy?.service == "eu/api")
    }
}
