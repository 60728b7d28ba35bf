import Cluster
import Study

/// One side of the study: the source task the pre-training roles learn, or the target task
/// every other role learns. Written in a sweep as
/// `source: {dataset: fashion-mnist, classes: 0-4, per_class: 1000, epochs: 4}`.
public struct StudyTaskSpec: Sendable, Equatable {
    public var dataset: String
    public var classes: String?
    public var perClass: Int?
    public var epochs: Int?

    /// The name reports group by: the dataset and its class selection.
    public var label: String { classes.map { "\(dataset)[\($0)]" } ?? dataset }

    public init(dataset: String, classes: String? = nil, perClass: Int? = nil, epochs: Int? = nil) {
        (self.dataset, self.classes, self.perClass, self.epochs) = (dataset, classes, perClass, epochs)
    }

    init(_ parameters: StudyParameterReader) throws {
        var reader = parameters
        guard let dataset = try reader.string("dataset") else { throw reader.fail("dataset", "missing: which dataset?") }
        self.dataset = dataset
        classes = try reader.string("classes")
        perClass = try reader.int("per_class", atLeast: 1)
        epochs = try reader.int("epochs", atLeast: 1)
        try reader.rejectUnknownKeys()
    }
}
