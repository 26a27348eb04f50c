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
    # 3: VPC networking (attributes, internet gateways, route tables), network interfaces,
    # Elastic IPs, launch templates, volumes. Existing clouds get what a new one has: the
    # default VPC's internet gateway and main route table, and each instance's primary
    # network interface and root volume.
    """
    ALTER TABLE vpcs ADD COLUMN dns_support INTEGER NOT NULL DEFAULT 1;
    ALTER TABLE vpcs ADD COLUMN dns_hostnames INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE vpcs ADD COLUMN tenancy TEXT NOT NULL DEFAULT 'default';
    UPDATE vpcs SET dns_hostnames = 1 WHERE is_default = 1;
    ALTER TABLE subnets ADD COLUMN map_public_ip INTEGER NOT NULL DEFAULT 0;
    UPDATE subnets SET map_public_ip = default_for_az;

    CREATE TABLE internet_gateways (
        igw_id TEXT PRIMARY KEY,
        vpc_id TEXT REFERENCES vpcs(vpc_id)
    );
    CREATE INDEX internet_gateways_vpc ON internet_gateways(vpc_id);
    CREATE TABLE route_tables (
        route_table_id TEXT PRIMARY KEY,
        vpc_id TEXT NOT NULL REFERENCES vpcs(vpc_id)
    );
    CREATE TABLE routes (
        route_table_id TEXT NOT NULL REFERENCES route_tables(route_table_id) ON DELETE CASCADE,
        destination TEXT NOT NULL,
        gateway_id TEXT NOT NULL,
        PRIMARY KEY (route_table_id, destination)
    );
    CREATE TABLE route_table_associations (
        association_id TEXT PRIMARY KEY,
        route_table_id TEXT NOT NULL REFERENCES route_tables(route_table_id),
        subnet_id TEXT UNIQUE REFERENCES subnets(subnet_id),
        main INTEGER NOT NULL DEFAULT 0
    );
    INSERT INTO internet_gateways(igw_id, vpc_id)
        SELECT 'igw-' || substr(lower(hex(randomblob(9))), 1, 17), vpc_id
        FROM vpcs WHERE is_default = 1;
    INSERT INTO route_tables(route_table_id, vpc_id)
        SELECT 'rtb-' || substr(lower(hex(randomblob(9))), 1, 17), vpc_id FROM vpcs;
    INSERT INTO routes(route_table_id, destination, gateway_id)
        SELECT r.route_table_id, v.cidr, 'local' FROM route_tables r JOIN vpcs v USING (vpc_id);
    INSERT INTO routes(route_table_id, destination, gateway_id)
        SELECT r.route_table_id, '0.0.0.0/0', g.igw_id
        FROM route_tables r JOIN internet_gateways g USING (vpc_id);
    INSERT INTO route_table_associations(association_id, route_table_id, subnet_id, main)
        SELECT 'rtbassoc-' || substr(lower(hex(randomblob(9))), 1, 17), route_table_id, NULL, 1
        FROM route_tables;

    CREATE TABLE network_interfaces (
        eni_id TEXT PRIMARY KEY,
        instance_id TEXT UNIQUE REFERENCES instances(instance_id) ON DELETE CASCADE,
        attachment_id TEXT,
        mac TEXT NOT NULL,
        description TEXT NOT NULL DEFAULT '',
        source_dest_check INTEGER NOT NULL DEFAULT 1,
        delete_on_termination INTEGER NOT NULL DEFAULT 1,
        attach_time TEXT
    );
    INSERT INTO network_interfaces(eni_id, instance_id, attachment_id, mac, attach_time)
        SELECT 'eni-' || substr(lower(hex(randomblob(9))), 1, 17), instance_id,
            'eni-attach-' || substr(lower(hex(randomblob(9))), 1, 17),
            '0e:' || substr(lower(hex(randomblob(5))), 1, 2)
            || ':' || substr(lower(hex(randomblob(1))), 1, 2)
            || ':' || substr(lower(hex(randomblob(1))), 1, 2)
            || ':' || substr(lower(hex(randomblob(1))), 1, 2)
            || ':' || substr(lower(hex(randomblob(1))), 1, 2),
            launch_time
        FROM instances;

    CREATE TABLE addresses (
        allocation_id TEXT PRIMARY KEY,
        public_ip TEXT NOT NULL UNIQUE,
        association_id TEXT UNIQUE,
        instance_id TEXT REFERENCES instances(instance_id) ON DELETE SET NULL,
        created TEXT NOT NULL
    );
    CREATE INDEX addresses_instance ON addresses(instance_id);

    CREATE TABLE launch_templates (
        template_id TEXT PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        default_version INTEGER NOT NULL,
        latest_version INTEGER NOT NULL,
        created TEXT NOT NULL,
        created_by TEXT NOT NULL
    );
    CREATE TABLE launch_template_versions (
        template_id TEXT NOT NULL REFERENCES launch_templates(template_id) ON DELETE CASCADE,
        version INTEGER NOT NULL,
        description TEXT NOT NULL DEFAULT '',
        data TEXT NOT NULL,
        created TEXT NOT NULL,
        created_by TEXT NOT NULL,
        PRIMARY KEY (template_id, version)
    );

    CREATE TABLE volumes (
        volume_id TEXT PRIMARY KEY,
        instance_id TEXT REFERENCES instances(instance_id) ON DELETE SET NULL,
        device TEXT,
        size_gib INTEGER NOT NULL,
        volume_type TEXT NOT NULL DEFAULT 'gp3',
        zone TEXT NOT NULL,
        state TEXT NOT NULL,
        delete_on_termination INTEGER NOT NULL DEFAULT 1,
        created TEXT NOT NULL,
        attach_time TEXT
    );
    CREATE INDEX volumes_instance ON volumes(instance_id);
    INSERT INTO volumes(volume_id, instance_id, device, size_gib, zone, state, created,
            attach_time)
        SELECT 'vol-' || substr(lower(hex(randomblob(9))), 1, 17), i.instance_id, '/dev/xvda', 8,
            s.zone,
            CASE WHEN i.state = 'terminated' THEN 'deleted' ELSE 'in-use' END,
            i.launch_time, i.launch_time
        FROM instances i JOIN subnets s ON s.subnet_id = i.subnet_id;
    """,
    # 4: S3 buckets and objects (bodies are files under the state directory's s3/)
    """
    CREATE TABLE s3_buckets (
        name TEXT PRIMARY KEY,
        region TEXT NOT NULL,
        owner TEXT NOT NULL,
        created TEXT NOT NULL
    );

    CREATE TABLE s3_objects (
        bucket TEXT NOT NULL REFERENCES s3_buckets(name),
        key TEXT NOT NULL,
        version_id TEXT NOT NULL DEFAULT 'null',
        is_latest INTEGER NOT NULL DEFAULT 1,
        delete_marker INTEGER NOT NULL DEFAULT 0,
        blob TEXT,
        size INTEGER NOT NULL DEFAULT 0,
        etag TEXT NOT NULL DEFAULT '',
        last_modified TEXT NOT NULL,
        content_type TEXT,
        headers TEXT NOT NULL DEFAULT '{}',
        metadata TEXT NOT NULL DEFAULT '{}',
        PRIMARY KEY (bucket, key, version_id)
    );
    CREATE INDEX s3_objects_latest ON s3_objects(bucket, key) WHERE is_latest = 1;
    """,
    # 5: S3 multipart uploads and their parts (each part's body a blob of its own)
    """
    CREATE TABLE s3_uploads (
        upload_id TEXT PRIMARY KEY,
        bucket TEXT NOT NULL REFERENCES s3_buckets(name),
        key TEXT NOT NULL,
        initiated TEXT NOT NULL,
        content_type TEXT,
        headers TEXT NOT NULL DEFAULT '{}',
        metadata TEXT NOT NULL DEFAULT '{}'
    );
    CREATE INDEX s3_uploads_bucket ON s3_uploads(bucket, key);

    CREATE TABLE s3_parts (
        upload_id TEXT NOT NULL REFERENCES s3_uploads(upload_id),
        part_number INTEGER NOT NULL,
        blob TEXT NOT NULL,
        size INTEGER NOT NULL,
        etag TEXT NOT NULL,
        last_modified TEXT NOT NULL,
        PRIMARY KEY (upload_id, part_number)
    );
    """,
    # 6: S3 tags (a bucket's tag set, NULL when it has none; an object's, with the object)
    """
    ALTER TABLE s3_buckets ADD COLUMN tags TEXT;
    ALTER TABLE s3_objects ADD COLUMN tags TEXT NOT NULL DEFAULT '{}';
    ALTER TABLE s3_uploads ADD COLUMN tags TEXT NOT NULL DEFAULT '{}';
    """,
    # 7: S3 versioning (NULL: never enabled; Enabled; Suspended)
    """
    ALTER TABLE s3_buckets ADD COLUMN versioning TEXT;
    """,
    # 8: S3 CORS rules (JSON; NULL when the bucket has none)
    """
    ALTER TABLE s3_buckets ADD COLUMN cors TEXT;
    """,
    # 9: IAM roles, instance profiles, STS sessions, instance profile associations
    """
    CREATE TABLE iam_roles (
        name TEXT PRIMARY KEY COLLATE NOCASE,
        role_id TEXT NOT NULL UNIQUE,
        path TEXT NOT NULL,
        trust_policy TEXT NOT NULL,
        description TEXT NOT NULL DEFAULT '',
        max_session_duration INTEGER NOT NULL DEFAULT 3600,
        created TEXT NOT NULL
    );
    CREATE TABLE iam_instance_profiles (
        name TEXT PRIMARY KEY COLLATE NOCASE,
        profile_id TEXT NOT NULL UNIQUE,
        path TEXT NOT NULL,
        role_name TEXT REFERENCES iam_roles(name),
        created TEXT NOT NULL
    );
    CREATE TABLE sts_sessions (
        access_key_id TEXT PRIMARY KEY,
        secret TEXT NOT NULL,
        token TEXT NOT NULL,
        kind TEXT NOT NULL,
        owner TEXT NOT NULL COLLATE NOCASE,
        owner_id TEXT NOT NULL,
        session_name TEXT NOT NULL,
        expires REAL NOT NULL,
        issued REAL NOT NULL,
        source TEXT NOT NULL DEFAULT ''
    );
    CREATE INDEX sts_sessions_source ON sts_sessions(source) WHERE source != '';
    CREATE TABLE iam_profile_associations (
        association_id TEXT PRIMARY KEY,
        instance_id TEXT NOT NULL REFERENCES instances(instance_id),
        profile_arn TEXT NOT NULL,
        profile_id TEXT NOT NULL,
        state TEXT NOT NULL,
        created TEXT NOT NULL
    );
    CREATE INDEX iam_profile_associations_instance ON iam_profile_associations(instance_id);
    """,
    # 10: S3 bucket policies, Block Public Access, Object Ownership (every bucket, old
    # ones too, gets what a new S3 bucket has: all four settings on, ACLs disabled)
    """
    ALTER TABLE s3_buckets ADD COLUMN policy TEXT;
    ALTER TABLE s3_buckets ADD COLUMN public_access_block TEXT DEFAULT '{"block_public_acls": true,
        "ignore_public_acls": true, "block_public_policy": true, "restrict_public_buckets": true}';
    ALTER TABLE s3_buckets ADD COLUMN ownership TEXT DEFAULT 'BucketOwnerEnforced';
    """,
    # 11: tags of IAM roles and instance profiles (a JSON list of {"Key", "Value"})
    """
    ALTER TABLE iam_roles ADD COLUMN tags TEXT NOT NULL DEFAULT '[]';
    ALTER TABLE iam_instance_profiles ADD COLUMN tags TEXT NOT NULL DEFAULT '[]';
    """,
)

VERSION = len(MIGRATIONS)
