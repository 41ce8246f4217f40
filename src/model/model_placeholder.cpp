// Replaced by the model/ readers (issue 4).
namespace accel::model { void placeholder() {} }
