"""The database schema, as an ordered list of migrations.

Each entry brings the schema from version N to N+1; ``PRAGMA user_version``
records how far a database has come. Never edit a released migration: add one.
"""

from __future__ import annotations

MIGRATIONS: tuple[str, ...] = (
    # 1: account, IAM, key pairs, VPCs, security groups, tags
    """
    CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);

    CREATE TABLE iam_users (
        name TEXT PRIMARY KEY COLLATE NOCASE,
        user_id TEXT NOT NULL UNIQUE,
        path TEXT NOT NULL,
        created TEXT NOT NULL
    );
    CREATE TABLE iam_groups (
        name TEXT PRIMARY KEY COLLATE NOCASE,
        group_id TEXT NOT NULL UNIQUE,
        path TEXT NOT NULL,
        created TEXT NOT NULL
    );
    CREATE TABLE iam_group_members (
        group_name TEXT NOT NULL REFERENCES iam_groups(name) ON DELETE CASCADE,
        user_name TEXT NOT NULL REFERENCES iam_users(name) ON DELETE CASCADE,
        PRIMARY KEY (group_name, user_name)
    );
    CREATE TABLE iam_access_keys (
        access_key_id TEXT PRIMARY KEY,
        secret TEXT NOT NULL,
        user_name TEXT NOT NULL REFERENCES iam_users(name) ON DELETE CASCADE,
        status TEXT NOT NULL,
        created TEXT NOT NULL
    );
    CREATE TABLE iam_inline_policies (
        owner_kind TEXT NOT NULL,
        owner_name TEXT NOT NULL COLLATE NOCASE,
        policy_name TEXT NOT NULL COLLATE NOCASE,
        document TEXT NOT NULL,
        PRIMARY KEY (owner_kind, owner_name, policy_name)
    );
    CREATE TABLE iam_policies (
        arn TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        policy_id TEXT NOT NULL UNIQUE,
        path TEXT NOT NULL,
        description TEXT NOT NULL,
        default_version TEXT NOT NULL,
        next_version INTEGER NOT NULL,
        created TEXT NOT NULL,
        updated TEXT NOT NULL
    );
    CREATE TABLE iam_policy_versions (
        arn TEXT NOT NULL REFERENCES iam_policies(arn) ON DELETE CASCADE,
        version_id TEXT NOT NULL,
        document TEXT NOT NULL,
        created TEXT NOT NULL,
        PRIMARY KEY (arn, version_id)
    );
    CREATE TABLE iam_attachments (
        owner_kind TEXT NOT NULL,
        owner_name TEXT NOT NULL COLLATE NOCASE,
        policy_arn TEXT NOT NULL,
        PRIMARY KEY (owner_kind, owner_name, policy_arn)
    );

    CREATE TABLE key_pairs (
        key_pair_id TEXT PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        key_type TEXT NOT NULL,
        fingerprint TEXT NOT NULL,
        public_key TEXT NOT NULL,
        created TEXT NOT NULL
    );

    CREATE TABLE vpcs (
        vpc_id TEXT PRIMARY KEY,
        cidr TEXT NOT NULL,
        is_default INTEGER NOT NULL
    );
    CREATE TABLE subnets (
        subnet_id TEXT PRIMARY KEY,
        vpc_id TEXT NOT NULL REFERENCES vpcs(vpc_id),
        cidr TEXT NOT NULL,
        zone TEXT NOT NULL,
        default_for_az INTEGER NOT NULL
    );
    CREATE TABLE security_groups (
        group_id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        description TEXT NOT NULL,
        vpc_id TEXT NOT NULL REFERENCES vpcs(vpc_id),
        UNIQUE (vpc_id, name)
    );
    CREATE TABLE security_group_rules (
        rule_id TEXT PRIMARY KEY,
        group_id TEXT NOT NULL REFERENCES security_groups(group_id) ON DELETE CASCADE,
        egress INTEGER NOT NULL,
        protocol TEXT NOT NULL,
        from_port INTEGER NOT NULL,
        to_port INTEGER NOT NULL,
        cidr_ipv4 TEXT,
        cidr_ipv6 TEXT,
        ref_group_id TEXT REFERENCES security_groups(group_id),
        description TEXT NOT NULL DEFAULT ''
    );
    CREATE INDEX security_group_rules_group ON security_group_rules(group_id);
    CREATE INDEX security_group_rules_ref ON security_group_rules(ref_group_id);

    CREATE TABLE tags (
        resource_id TEXT NOT NULL,
        key TEXT NOT NULL,
        value TEXT NOT NULL,
        PRIMARY KEY (resource_id, key)
    );
    """,
    # 2: instances
    """
    CREATE TABLE reservations (
        reservation_id TEXT PRIMARY KEY,
        client_token TEXT UNIQUE,
        requester TEXT NOT NULL,
        created TEXT NOT NULL
    );
    CREATE TABLE instances (
        instance_id TEXT PRIMARY KEY,
        reservation_id TEXT NOT NULL REFERENCES reservations(reservation_id),
        launch_index INTEGER NOT NULL,
        image_id TEXT NOT NULL,
        instance_type TEXT NOT NULL,
        key_name TEXT,
        public_key TEXT,
        subnet_id TEXT NOT NULL REFERENCES subnets(subnet_id),
        private_ip TEXT NOT NULL,
        state TEXT NOT NULL,
        state_reason TEXT NOT NULL DEFAULT '',
        user_data BLOB,
        launch_time TEXT NOT NULL,
        state_changed TEXT NOT NULL,
        reboot_requested INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX instances_state ON instances(state);
    CREATE TABLE instance_groups (
        instance_id TEXT NOT NULL REFERENCES instances(instance_id) ON DELETE CASCADE,
        group_id TEXT NOT NULL REFERENCES security_groups(group_id),
        position INTEGER NOT NULL,
        PRIMARY KEY (instance_id, group_id)
    );
    CREATE INDEX instance_groups_group ON instance_groups(group_id);
    """,
)

VERSION = len(MIGRATIONS)
