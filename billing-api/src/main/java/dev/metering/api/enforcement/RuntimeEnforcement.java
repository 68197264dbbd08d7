package dev.metering.api.enforcement;

import dev.metering.api.audit.Actor;
import dev.metering.api.check.EnforcementMode;
import dev.metering.api.check.ModePolicy;
import java.time.Clock;
import java.util.function.Supplier;

/**
 * The enforcement policy in force, held in memory so a check reads no extra row. {@link #refresh()}
 * (every 500 ms) reads the stored revision and reloads only when it moved, so every instance
 * follows a change made through any other within a second; changes through this instance
 * apply at once.
 */
public final class RuntimeEnforcement implements Supplier<ModePolicy> {

    private final EnforcementRepository repository;
    private final Clock clock;
    private volatile EnforcementRepository.Snapshot snapshot;
    private volatile ModePolicy policy;

    public RuntimeEnforcement(EnforcementRepository repository, Clock clock, EnforcementMode initialMode,
                              int initialCanaryPercent) {
        this.repository = repository;
        this.clock = clock;
        repository.seed(initialMode, initialCanaryPercent, clock.instant());
        reload();
    }

    @Override
    public ModePolicy get() {
        return policy;
    }

    public EnforcementRepository.Snapshot snapshot() {
        return snapshot;
    }

    public void refresh() {
        if (repository.revision() != snapshot.revision()) {
            reload();
        }
    }

    public void setGlobal(EnforcementMode mode, int canaryPercent, Actor actor) {
        repository.setGlobal(mode, canaryPercent, actor);
        reload();
    }

    public boolean setOrg(String orgId, EnforcementMode mode, Actor actor) {
        boolean created = repository.setOrg(orgId, mode, actor);
        reload();
        return created;
    }

    public boolean deleteOrg(String orgId, Actor actor) {
        boolean deleted = repository.deleteOrg(orgId, actor);
        reload();
        return deleted;
    }

    public EnforcementRepository.OrgMode org(String orgId) {
        return repository.findOrg(orgId);
    }

    public EnforcementRepository repository() {
        return repository;
    }

    private synchronized void reload() {
        EnforcementRepository.Snapshot s = repository.load();
        if (snapshot != null && s.revision() < snapshot.revision()) {
            return;
        }
        policy = new ModePolicy(s.mode(), s.canaryPercent(), s.orgModes());
        snapshot = s;
    }
}
