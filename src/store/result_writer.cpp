#include "accel/store/result_writer.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <exception>
#include <fstream>

#include <fmt/core.h>

#include "accel/core/error.h"
#include "accel/core/log.h"
#include "accel/core/paths.h"
#include "accel/store/database.h"
#include "accel/store/record_batch.h"
#include "accel/store/uuid.h"
#include "process_identity.h"
#include "record_json.h"

namespace accel::store {

struct ResultWriter::Impl {
    WriterOptions opts;
    RunRecord run;
    MachineRecord machine;
    BuildRecord build;
    std::vector<ModelRecord> models;
    bool finished = false;
    bool spooling = false;
    std::filesystem::path spool;

    void append_spool(const RecordBatch& batch, bool with_header) {
        RecordBatch out;
        if (with_header) {
            // The spool file stands alone: it repeats the run and what the run's rows refer to.
            out.machines = {machine};
            out.builds = {build};
            out.models = models;
            out.runs = {run};
        }
        out.machines.insert(out.machines.end(), batch.machines.begin(), batch.machines.end());
        out.models.insert(out.models.end(), batch.models.begin(), batch.models.end());
        out.results = batch.results;
        out.failures = batch.failures;
        out.ends = batch.ends;
        const std::string text = batch_to_jsonl(out);
        paths::ensure_dir(spool.parent_path());
        const int fd = ::open(spool.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
        if (fd < 0)
            throw Error(ErrorKind::io, "cannot open spool file " + spool.string() + ": " + std::strerror(errno));
        size_t done = 0;
        while (done < text.size()) {
            const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) {
                const std::string why = std::strerror(errno);
                ::close(fd);
                throw Error(ErrorKind::io, "cannot write spool file " + spool.string() + ": " + why);
            }
            done += static_cast<size_t>(n);
        }
        const bool synced = ::fsync(fd) == 0;
        const std::string why = std::strerror(errno);
        ::close(fd);
        if (!synced) throw Error(ErrorKind::io, "cannot sync spool file " + spool.string() + ": " + why);
    }

    WriteOutcome commit(const RecordBatch& batch) {
        if (!spooling) {
            try {
                Database db = Database::open(opts.db, OpenOptions{.lock_wait = opts.lock_wait});
                Transaction tx(db);
                write_batch(db, batch);
                tx.commit();
                return WriteOutcome::stored;
            } catch (const Error& e) {
                if (e.kind() == ErrorKind::invalid_input) throw;
                ACCEL_LOG_WARN(
                    "cannot write run {} to {}: {}; spooling its records to {} (load them with 'accel db "
                    "ingest')",
                    run.id, opts.db.string(), e.what(), spool.string());
                spooling = true;
                try {
                    append_spool(batch, true);
                } catch (const Error& s) {
                    throw Error(ErrorKind::io, std::string(e.what()) + "; and " + s.what());
                }
                return WriteOutcome::spooled;
            }
        }
        append_spool(batch, false);
        return WriteOutcome::spooled;
    }

    void require_open() const {
        if (finished) throw Error(ErrorKind::internal, "run " + run.id + " is already finished");
    }
};

ResultWriter::ResultWriter(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ResultWriter::ResultWriter(ResultWriter&&) noexcept = default;

ResultWriter ResultWriter::begin(const WriterOptions& opts, RunRecord run, const MachineRecord& machine,
                                 const BuildRecord& build) {
    if (machine.id.empty()) throw Error(ErrorKind::invalid_input, "the machine record has no id (fingerprint)");
    auto impl = std::make_unique<Impl>();
    impl->opts = opts;
    if (impl->opts.db.empty()) impl->opts.db = paths::default_db();
    if (impl->opts.spool_dir.empty()) impl->opts.spool_dir = paths::data_dir() / "spool";
    if (run.id.empty()) run.id = new_uuid();
    if (run.started_at_ns == 0) run.started_at_ns = now_ns();
    if (run.pid == 0) {
        const ProcessIdentity me = this_process();
        run.pid = me.pid;
        run.boot_id = me.boot_id;
        run.host = me.host;
    }
    run.status = RunStatus::running;
    run.machine_id = machine.id;
    impl->build = build;
    if (impl->build.id.empty()) impl->build.id = build_id(build);
    run.build_id = impl->build.id;
    impl->run = run;
    impl->machine = machine;
    impl->spool = impl->opts.spool_dir / (run.id + ".jsonl");
    RecordBatch b;
    b.machines = {machine};
    b.builds = {impl->build};
    b.runs = {run};
    impl->commit(b);
    return ResultWriter(std::move(impl));
}

ResultWriter::~ResultWriter() {
    if (!impl_ || impl_->finished) return;
    try {
        finish(std::uncaught_exceptions() > 0 ? RunStatus::failed : RunStatus::interrupted);
    } catch (const std::exception& e) {
        ACCEL_LOG_WARN("cannot mark run {} ended: {}", impl_->run.id, e.what());
    }
}

const std::string& ResultWriter::run_id() const {
    return impl_->run.id;
}

WriteOutcome ResultWriter::add_model(const ModelRecord& model) {
    impl_->require_open();
    impl_->models.push_back(model);
    RecordBatch b;
    b.models = {model};
    return impl_->commit(b);
}

WriteOutcome ResultWriter::add_results(std::vector<ResultRecord> results, std::vector<std::string>* ids_out) {
    impl_->require_open();
    RecordBatch b;
    b.fresh_ids = true;
    const int64_t now = now_ns();
    for (auto& r : results) {
        if (r.id.empty()) {
            r.id = new_uuid();
        } else {
            b.fresh_ids = false;
        }
        r.run_id = impl_->run.id;
        if (r.machine_id.empty()) r.machine_id = impl_->machine.id;
        if (r.build_id.empty()) r.build_id = impl_->run.build_id;
        if (r.created_at_ns == 0) r.created_at_ns = now;
        if (ids_out != nullptr) ids_out->push_back(r.id);
    }
    b.results = std::move(results);
    return impl_->commit(b);
}

WriteOutcome ResultWriter::add_failures(std::vector<FailureRecord> failures) {
    impl_->require_open();
    RecordBatch b;
    for (auto& f : failures) {
        if (f.id.empty()) f.id = new_uuid();
        f.run_id = impl_->run.id;
        if (f.machine_id.empty()) f.machine_id = impl_->machine.id;
        if (f.created_at_ns == 0) f.created_at_ns = now_ns();
    }
    b.failures = std::move(failures);
    return impl_->commit(b);
}

WriteOutcome ResultWriter::finish(RunStatus status) {
    impl_->require_open();
    impl_->finished = true;
    RecordBatch b;
    b.ends = {RunEnd{.run_id = impl_->run.id, .status = status, .ended_at_ns = now_ns()}};
    return impl_->commit(b);
}

bool ResultWriter::spooling() const {
    return impl_->spooling;
}
std::filesystem::path ResultWriter::spool_file() const {
    return impl_->spool;
}

IngestReport ingest_spool(const std::filesystem::path& db_path, const std::vector<std::filesystem::path>& inputs,
                          std::chrono::milliseconds lock_wait) {
    std::vector<std::filesystem::path> files;
    for (const auto& in : inputs) {
        std::error_code ec;
        if (std::filesystem::is_directory(in, ec)) {
            std::vector<std::filesystem::path> found;
            for (const auto& e : std::filesystem::directory_iterator(in, ec)) {
                if (e.path().extension() == ".jsonl") found.push_back(e.path());
            }
            std::sort(found.begin(), found.end());
            files.insert(files.end(), found.begin(), found.end());
        } else if (std::filesystem::exists(in, ec)) {
            files.push_back(in);
        } else {
            throw Error(ErrorKind::invalid_input, "no such spool file or folder: " + in.string());
        }
    }
    IngestReport rep;
    if (files.empty()) return rep;
    Database db = Database::open(db_path, OpenOptions{.lock_wait = lock_wait});
    for (const auto& f : files) {
        std::ifstream in(f, std::ios::binary);
        if (!in) throw Error(ErrorKind::io, "cannot read spool file " + f.string());
        const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        RecordBatch batch;
        size_t pos = 0;
        int line_no = 0;
        while (pos < text.size()) {
            const size_t nl = text.find('\n', pos);
            ++line_no;
            const std::string where = fmt::format("{}:{}", f.string(), line_no);
            if (nl == std::string::npos) {
                // No newline: the writer died inside this write, and never reported it stored.
                ACCEL_LOG_WARN("{}: incomplete last line left out (the writer stopped while writing it)", where);
                ++rep.truncated_lines;
                break;
            }
            const std::string line = text.substr(pos, nl - pos);
            pos = nl + 1;
            if (line.empty()) continue;
            auto j = nlohmann::json::parse(line, nullptr, false);
            if (j.is_discarded()) throw Error(ErrorKind::invalid_input, where + ": not valid JSON");
            add_json_line(j, where, batch);
        }
        Transaction tx(db);
        const WriteCounts n = write_batch(db, batch);
        tx.commit();
        std::error_code ec;
        std::filesystem::remove(f, ec);
        if (ec) ACCEL_LOG_WARN("ingested {} but cannot remove it: {}", f.string(), ec.message());
        ++rep.files;
        rep.results += n.results;
        rep.samples += n.samples;
        rep.failures += n.failures;
        rep.runs += n.runs;
        rep.skipped_results += n.skipped_results;
    }
    return rep;
}

}  // namespace accel::store
