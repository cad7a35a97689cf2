import ArgumentParser
import ShiplogKit

struct Init: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Create the store (safe to run again: an existing store is only upgraded).")

    @OptionGroup var store: StoreOptions

    func run() throws {
        let path = store.path
        let existed = System.fileExists(path)
        let opened = try EventStore(path: path, mode: .create)
        Terminal.write("\(existed ? "store ready" : "created store") at \(path) (schema version \(opened.schemaVersion))\n")
    }
}
