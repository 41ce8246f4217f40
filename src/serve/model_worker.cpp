#include "model_worker.h"

#include <algorithm>

#include "accel/core/error.h"
#include "accel/core/log.h"
#include "accel/engine/session_parallel_target.h"
#include "accel/pool/session_guard.h"

namespace accel::serve {

namespace {

double seconds(SteadyClock::duration d) { return std::chrono::duration<double>(d).count(); }

}  // namespace

// The batcher's callbacks, on the worker thread: text through the job's stop filter into its pieces.
class ModelWorker::Observer : public engine::QueryObserver {
public:
    explicit Observer(ModelWorker& worker) : w_(worker) {}

    void started(uint32_t id, int32_t n_cached) override {
        const auto job = w_.find(id);
        if (!job) return;
        std::lock_guard lock(job->mu);
        job->started = true;
        job->t_start = SteadyClock::now();
        job->n_cached = n_cached;
        job->waiting.reset();
    }

    bool token(uint32_t id, int32_t tok) override {
        const auto job = w_.find(id);
        if (!job) return false;
        const engine::LoadedModel& model = job->lease->model();
        if (model.is_eog(tok)) {
            job->stopped_by_eog = true;
            return false;
        }
        const bool first = job->n_gen == 0;
        {
            std::lock_guard lock(job->mu);
            ++job->n_gen;
        }
        const std::string piece = engine::token_to_piece(model, tok, first && job->starts_document ? 1 : 0);
        bool sink_ok = true;
        const engine::TextSink sink = [&job](std::string_view p) {
            std::lock_guard lock(job->mu);
            job->pieces.emplace_back(p);
            job->cv.notify_all();
            return !job->cancel_requested;
        };
        if (!job->filter->push(piece, sink, sink_ok)) {
            job->stopped_by_string = true;
            return false;
        }
        std::lock_guard lock(job->mu);
        return !job->cancel_requested;
    }

    void first_token(uint32_t id) override {
        if (const auto job = w_.find(id)) job->t_first = SteadyClock::now();
    }

    void complete(uint32_t id) override {
        std::shared_ptr<GenJob> job;
        {
            std::lock_guard lock(w_.mu_);
            const auto it = w_.jobs_.find(id);
            if (it == w_.jobs_.end()) return;
            job = it->second;
            w_.jobs_.erase(it);
        }
        w_.finish(*job);
    }

private:
    ModelWorker& w_;
};

ModelWorker::ModelWorker(std::string model_id, std::string device, size_t prompt_cache_bytes)
    : model_id_(std::move(model_id)),
      device_(std::move(device)),
      prompt_cache_bytes_(prompt_cache_bytes),
      thread_([this] { run(); }) {}

ModelWorker::~ModelWorker() { stop(); }

void ModelWorker::submit(const std::shared_ptr<GenJob>& job) {
    std::lock_guard lock(mu_);
    if (stopping_) throw Error(ErrorKind::busy, "the server is stopping");
    jobs_[job->id] = job;
    unissued_.push_back(job);
    cv_.notify_all();
}

void ModelWorker::cancel(GenJob& job) {
    std::lock_guard lock(mu_);
    {
        std::lock_guard job_lock(job.mu);
        if (job.done || job.cancel_requested) return;
        job.cancel_requested = true;
    }
    // A job the worker already completed (it left jobs_) is left alone: the batcher forgets it.
    if (jobs_.count(job.id) == 0) return;
    const auto it = std::find_if(unissued_.begin(), unissued_.end(), [&](const auto& j) { return j.get() == &job; });
    if (it != unissued_.end()) {
        const std::shared_ptr<GenJob> keep = *it;
        unissued_.erase(it);
        jobs_.erase(job.id);
        finish(*keep);
        return;
    }
    if (batcher_) batcher_->cancel(job.id);
}

void ModelWorker::stop() {
    std::vector<std::shared_ptr<GenJob>> all;
    {
        std::lock_guard lock(mu_);
        if (stopping_ && !thread_.joinable()) return;
        stopping_ = true;
        for (const auto& [id, job] : jobs_) all.push_back(job);
    }
    for (const auto& job : all) cancel(*job);
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
}

std::shared_ptr<GenJob> ModelWorker::find(uint32_t id) const {
    std::lock_guard lock(mu_);
    const auto it = jobs_.find(id);
    return it == jobs_.end() ? nullptr : it->second;
}

void ModelWorker::finish(GenJob& job) {
    // What the stop filter still holds is final now, unless a stop string, a cancel or an error ended the job.
    std::string rest;
    bool cancelled = false;
    {
        std::lock_guard lock(job.mu);
        cancelled = job.cancel_requested;
    }
    if (!job.stopped_by_string && !cancelled && job.error.empty() && job.filter) {
        job.filter->flush([&rest](std::string_view p) {
            rest += p;
            return true;
        });
    }
    // The figures first, so that a client that reads /metrics after its answer finds its request counted.
    const auto t_end = SteadyClock::now();
    ++n_requests_;
    n_tokens_prompt_ += job.query.prompt.size();
    n_tokens_gen_ += static_cast<uint64_t>(job.n_gen);
    if (!job.error.empty()) {
        ++n_failed_;
    } else if (cancelled) {
        ++n_cancelled_;
    } else {
        // Latencies of the requests that ran to their end, from their arrival at the server.
        queue_wait_.observe(seconds(job.t_start - job.t_arrival));
        e2e_.observe(seconds(t_end - job.t_arrival));
        if (job.t_first != SteadyClock::time_point{}) ttft_.observe(seconds(job.t_first - job.t_arrival));
        if (job.n_gen >= 2) tpot_.observe(seconds(t_end - job.t_first) / (job.n_gen - 1));
    }
    std::lock_guard lock(job.mu);
    if (!rest.empty()) job.pieces.push_back(std::move(rest));
    job.t_end = t_end;
    job.done = true;
    job.waiting.reset();
    job.cv.notify_all();
}

void ModelWorker::issue_unissued_locked() {
    for (const auto& job : unissued_) batcher_->issue(job->id, job->query);
    unissued_.clear();
}

void ModelWorker::run() {
    for (;;) {
        std::shared_ptr<pool::Lease> lease;
        {
            std::unique_lock lock(mu_);
            cv_.wait(lock, [&] { return stopping_ || !jobs_.empty(); });
            if (jobs_.empty()) return;
            lease = jobs_.begin()->second->lease;
        }
        serve_busy_period(lease);
    }
}

// While requests are in flight: the session of one of their leases (they all lease the same resident model), the
// batcher stepping until nothing is left.
void ModelWorker::serve_busy_period(const std::shared_ptr<pool::Lease>& lease) {
    Observer observer(*this);
    std::string failure;
    try {
        const pool::SessionGuard guard = lease->session();
        engine::SessionParallelTarget target(guard.session());
        {
            std::lock_guard lock(mu_);
            if (!batcher_) {
                batcher_ = std::make_unique<engine::ContinuousBatcher>(
                    target, engine::BatcherOptions{.reuse_prefix = true, .prompt_cache_bytes = prompt_cache_bytes_});
                target.clear_all();
            } else {
                batcher_->rebind(target, guard.untouched_since(last_serial_));
            }
        }
        last_serial_ = guard.serial();
        try {
            for (;;) {
                {
                    std::lock_guard lock(mu_);
                    issue_unissued_locked();
                }
                if (batcher_->step(observer)) continue;
                std::lock_guard lock(mu_);
                if (unissued_.empty()) break;
            }
        } catch (const std::exception& e) {
            failure = e.what();
            fail_all(failure);
            batcher_->abort(observer);  // while the target lives; the jobs are gone, so this only frees the slots
            last_serial_ = 0;
        }
    } catch (const std::exception& e) {
        if (failure.empty()) fail_all(e.what());
        std::lock_guard lock(mu_);
        batcher_.reset();
        last_serial_ = 0;
    }
}

void ModelWorker::fail_all(const std::string& why) {
    ACCEL_LOG_ERROR("serve: {} on {}: {}", model_id_, device_, why);
    std::vector<std::shared_ptr<GenJob>> failed;
    {
        std::lock_guard lock(mu_);
        for (const auto& [id, job] : jobs_) failed.push_back(job);
        jobs_.clear();
        unissued_.clear();
    }
    for (const auto& job : failed) {
        job->error = why;
        finish(*job);
    }
}

WorkerStats ModelWorker::stats() const {
    WorkerStats s;
    {
        std::lock_guard lock(mu_);
        if (batcher_) s.batcher = batcher_->stats();
        s.n_unissued = static_cast<int64_t>(unissued_.size());
    }
    s.n_requests = n_requests_.load();
    s.n_cancelled = n_cancelled_.load();
    s.n_failed = n_failed_.load();
    s.n_tokens_prompt = n_tokens_prompt_.load();
    s.n_tokens_gen = n_tokens_gen_.load();
    s.queue_wait = queue_wait_.snapshot();
    s.ttft = ttft_.snapshot();
    s.tpot = tpot_.snapshot();
    s.e2e = e2e_.snapshot();
    return s;
}

}  // namespace accel::serve
