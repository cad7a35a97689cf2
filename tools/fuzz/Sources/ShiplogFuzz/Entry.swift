// libFuzzer entry points. One executable holds every target; SHIPLOG_FUZZ_TARGET picks one
// (see Targets.swift), so the fuzz package links once instead of once per target.
//
// SwiftPM links an executable with `--defsym main=ShiplogFuzz_main`, so the module must define
// `ShiplogFuzz_main`: it handles the harness's own options and otherwise hands over to
// libFuzzer's driver (LLVMFuzzerRunDriver), which then calls LLVMFuzzerInitialize and
// LLVMFuzzerTestOneInput as usual.

#if canImport(Glibc)
    import Glibc
#endif
import ShiplogKit

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    Harness.run(UnsafeBufferPointer(start: data, count: size))
    return 0
}

@_cdecl("LLVMFuzzerInitialize")
public func fuzzInitialize(
    _ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>
) -> CInt {
    Harness.setUp()
    return 0
}

@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<CInt>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: @convention(c) (UnsafePointer<UInt8>, Int) -> CInt
) -> CInt

@_cdecl("ShiplogFuzz_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    let arguments = (0..<Int(argc)).map { String(cString: argv[$0]!) }
    if arguments.count >= 2 {
        switch arguments[1] {
        case "--list-targets":
            print(FuzzTarget.allCases.map(\.rawValue).joined(separator: "\n"))
            return 0
        case "--native-seeds":
            // ShiplogFuzz --native-seeds OUTDIR FILE-OR-FOLDER...: the native documents of every
            // event the files normalize to, one file each (the native target's seed corpus).
            guard arguments.count >= 4 else {
                printError("usage: ShiplogFuzz --native-seeds OUTDIR FILE-OR-FOLDER...\n")
                return 2
            }
            return NativeSeeds.write(to: arguments[2], from: Array(arguments[3...]))
        default:
            break
        }
    }
    var count = argc
    var vector: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = argv
    return withUnsafeMutablePointer(to: &vector) { LLVMFuzzerRunDriver(&count, $0, fuzz) }
}
