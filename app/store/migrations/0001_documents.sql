-- Every merchant's collections as JSON documents, and the counters of next_number.

CREATE TABLE documents (
    merchant text NOT NULL,
    collection text NOT NULL,
    id text NOT NULL,
    seq bigint GENERATED ALWAYS AS IDENTITY,  -- "oldest first": insertion order
    doc jsonb NOT NULL,
    PRIMARY KEY (merchant, collection, id)
);

-- find(), first() and all() walk one collection in insertion order.
CREATE INDEX documents_order ON documents (merchant, collection, seq);

-- find(**equals) asks for jsonb containment, doc @> '{"email": "…"}'.
CREATE INDEX documents_doc ON documents USING gin (doc jsonb_path_ops);

-- One gapless counter per merchant and sequence, changed only inside write transactions.
CREATE TABLE sequences (
    merchant text NOT NULL,
    name text NOT NULL,
    value bigint NOT NULL,
    PRIMARY KEY (merchant, name)
);
