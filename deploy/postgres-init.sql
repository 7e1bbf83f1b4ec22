-- Sample schema for the compose demo: a little personal data for masking to act on.
CREATE TABLE customers (
  id          serial PRIMARY KEY,
  name        text NOT NULL,
  email       text NOT NULL,
  card_number text,
  ssn         text
);
INSERT INTO customers (name, email, card_number, ssn) VALUES
  ('Ada Lovelace', 'ada@example.com', '4111 1111 1111 1111', '078-05-1120'),
  ('Alan Turing', 'alan@example.com', '5500-0000-0000-0004', '219-09-9999'),
  ('Grace Hopper', 'grace@example.com', '3400 000000 00009', '457-55-5462');
