/// Validates JSON values against the JSON Schemas in `schema/` (embedded in the binary).
///
/// Implements the part of JSON Schema 2020-12 those files use: `type`, `properties`,
/// `required`, `additionalProperties`, `items`, `enum`, `const`, `minLength`, `maxLength`,
/// `minimum`, `maximum`, `$ref` (to `$defs` in the same or another embedded file) and `format`.
/// Formats are checked by code rather than regular expressions, which keeps validation fast:
/// `date-time`, `git-sha`, `image-digest`, `task-definition`, `digits`.
public struct SchemaValidator: Sendable {
    private let documents: [String: JSON]

    public static let shared: SchemaValidator = {
        var documents: [String: JSON] = [:]
        for (path, text) in EmbeddedSchema.jsonSchemas {
            // The embedded text is the committed schema; a parse failure is caught by the schema tests.
            let name = path.split(separator: "/").last.map(String.init) ?? path
            documents[name] = (try? JSONParser.parse(text)) ?? .null
        }
        return SchemaValidator(documents: documents)
    }()

    init(documents: [String: JSON]) {
        self.documents = documents
    }

    /// The names of the event types that have a schema.
    public var eventTypes: [String] {
        documents.keys.filter { $0 != "common.json" && $0 != "native-event.json" }
            .map { String($0.dropLast(".json".count)) }.sorted()
    }

    public func schema(named name: String) -> JSON? { documents[name] }

    /// Returns the first violation as `path: reason`, or nil when the value is valid.
    public func validate(_ value: JSON, against schemaName: String, path: String = "") -> String? {
        guard let schema = documents[schemaName] else { return "\(path): no schema named \(schemaName)" }
        return check(value, schema, file: schemaName, path: path)
    }

    private func check(_ value: JSON, _ schema: JSON, file: String, path: String) -> String? {
        guard case .object(let rules) = schema else { return nil }
        if let reference = rules["$ref"]?.string {
            guard let (target, targetFile) = resolve(reference, from: file) else {
                return "\(path): schema reference \(reference) not found"
            }
            if let problem = check(value, target, file: targetFile, path: path) { return problem }
        }
        let here = path.isEmpty ? "(document)" : path
        if let constant = rules["const"], constant != value {
            return "\(here): must be \(JSONWriter.compact(constant))"
        }
        if let options = rules["enum"]?.array, !options.contains(value) {
            let listed = options.prefix(12).map(JSONWriter.compact).joined(separator: ", ")
            return "\(here): \(describe(value)) is not one of \(listed)\(options.count > 12 ? ", …" : "")"
        }
        if let type = rules["type"]?.string, !matches(value, type: type) {
            return "\(here): expected \(type == "integer" ? "an integer" : "a \(type)"), found \(describe(value))"
        }
        switch value {
        case .string(let text):
            let length = text.count
            if let minimum = rules["minLength"]?.int, length < minimum {
                return minimum == 1 ? "\(here): must not be empty" : "\(here): shorter than \(minimum) characters"
            }
            if let maximum = rules["maxLength"]?.int, length > maximum {
                return "\(here): longer than \(maximum) characters"
            }
            if let format = rules["format"]?.string, let problem = Self.checkFormat(text, format) {
                return "\(here): \(problem)"
            }
        case .number(let text):
            if let minimum = rules["minimum"]?.int, let number = Int64(text), number < minimum {
                return "\(here): must be at least \(minimum)"
            }
            if let maximum = rules["maximum"]?.int, let number = Int64(text), number > maximum {
                return "\(here): must be at most \(maximum)"
            }
        case .array(let items):
            if let itemSchema = rules["items"] {
                for (index, item) in items.enumerated() {
                    if let problem = check(item, itemSchema, file: file, path: "\(path)[\(index)]") { return problem }
                }
            }
        case .object(let object):
            for name in rules["required"]?.array ?? [] {
                if let name = name.string, object[name] == nil {
                    return "\(path.isEmpty ? "" : path + ".")\(name): required"
                }
            }
            let properties = rules["properties"]?.object
            for member in object.members {
                let memberPath = path.isEmpty ? member.key : "\(path).\(member.key)"
                if let propertySchema = properties?[member.key] {
                    if let problem = check(member.value, propertySchema, file: file, path: memberPath) { return problem }
                } else if let additional = rules["additionalProperties"] {
                    if additional == .bool(false) { return "\(memberPath): not allowed here" }
                    if let problem = check(member.value, additional, file: file, path: memberPath) { return problem }
                }
            }
        default:
            break
        }
        return nil
    }

    private func resolve(_ reference: String, from file: String) -> (JSON, String)? {
        let parts = reference.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false)
        let targetFile = parts[0].isEmpty ? file : String(parts[0])
        guard var node = documents[targetFile] else { return nil }
        if parts.count == 2 {
            for component in parts[1].split(separator: "/") {
                guard let next = node[String(component)] else { return nil }
                node = next
            }
        }
        return (node, targetFile)
    }

    private func matches(_ value: JSON, type: String) -> Bool {
        switch (type, value) {
        case ("object", .object), ("array", .array), ("string", .string), ("boolean", .bool), ("null", .null),
            ("number", .number):
            return true
        case ("integer", .number(let text)):
            return !text.contains(where: { $0 == "." || $0 == "e" || $0 == "E" })
        default:
            return false
        }
    }

    private func describe(_ value: JSON) -> String {
        switch value {
        case .string(let text): return text.count > 40 ? "\"\(text.prefix(40))…\"" : "\"\(text)\""
        case .number(let text): return text
        case .bool(let flag): return flag ? "true" : "false"
        case .null: return "null"
        case .array: return "an array"
        case .object: return "an object"
        }
    }

    /// Checks one of the formats the schemas use; returns the problem or nil.
    public static func checkFormat(_ text: String, _ format: String) -> String? {
        switch format {
        case "date-time":
            return Timestamp(iso8601: text) == nil ? "\"\(text.prefix(40))\" is not an RFC 3339 time" : nil
        case "git-sha":
            let valid = (7...64).contains(text.utf8.count) && text.utf8.allSatisfy(isLowerHex)
            return valid ? nil : "\"\(text.prefix(70))\" is not a commit sha (7 to 40 lowercase hex digits)"
        case "image-digest":
            return ImageReference.isDigest(text) ? nil : "\"\(text.prefix(80))\" is not an image digest (sha256:<hex>)"
        case "task-definition":
            return TaskDefinitionID(text) == nil ? "\"\(text.prefix(80))\" is not a task definition (family:revision)" : nil
        case "digits":
            return !text.isEmpty && text.utf8.allSatisfy { $0 >= 48 && $0 <= 57 } ? nil : "\"\(text.prefix(40))\" is not a number"
        default:
            return nil
        }
    }

    static func isLowerHex(_ byte: UInt8) -> Bool {
        (byte >= 48 && byte <= 57) || (byte >= 97 && byte <= 102)
    }
}
